-- modernize:no-transaction
-- The audit trail of one resource (repo::audit::audit_trail: an asset's edits, its 6R overrides)
-- is read by client account, resource type and resource id, newest first. Without an index that
-- is a scan of the tenant's whole trail, which grows with every edit. The tenant key leads, as in
-- every index of the schema (every query is tenant scoped); created_at DESC serves the order.
--
-- Built concurrently (writes go on while it builds), statement by statement outside a transaction;
-- IF NOT EXISTS lets a re-run finish after an interruption (the runner first drops an INVALID
-- index an interrupted build left), and lock_timeout bounds the wait for a lock.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_access_audit_log_resource
    ON migration.access_audit_log (client_account_id, resource_type, resource_id, created_at DESC);
