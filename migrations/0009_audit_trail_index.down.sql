-- modernize:no-transaction
-- Reverses 0009: the audit trail's resource index goes.

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_access_audit_log_resource;
