-- Reverses 0004: the job queue and modernize_app's access to the bookkeeping schema.

SET LOCAL lock_timeout = '5s';

REVOKE USAGE ON SCHEMA modernize FROM modernize_app;
DROP TABLE modernize.jobs;
