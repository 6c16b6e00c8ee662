-- modernize:no-transaction
-- Reverses 0007: the identity key of assets and the one-pending-job-per-phase index go (jobs it
-- cancelled as duplicates stay cancelled).

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS modernize.jobs_pending_phase_key;

DROP INDEX CONCURRENTLY IF EXISTS migration.assets_client_account_id_engagement_id_dedup_key_key;

ALTER TABLE migration.assets DROP COLUMN IF EXISTS dedup_key;
