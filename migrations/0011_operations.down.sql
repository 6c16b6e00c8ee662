-- Reverses 0011: the health view, the deployment record and the maintenance flag go.
-- Not lossless: the record of deployments is dropped (a rollback across 0011 restores the backup).

SET LOCAL lock_timeout = '5s';

DROP VIEW modernize.deployment_health;
DROP TABLE modernize.deployments;
DROP TABLE modernize.maintenance;
