-- modernize:no-transaction
-- Reverses 0021: the full asset index and the unprocessed index come back, the partial one goes.
-- modernize:lossless (indexes only)

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_raw_import_records_unprocessed
    ON migration.raw_import_records (client_account_id, data_import_id, row_number) WHERE NOT is_processed;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_raw_import_records_client_account_id_asset_id
    ON migration.raw_import_records (client_account_id, asset_id);

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_raw_import_records_asset_id;

RESET lock_timeout;
