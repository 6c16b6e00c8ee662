-- modernize:no-transaction
-- The indexes of raw_import_records that every imported record paid for and no query needs at
-- that point (issue 16, ingest: each index an insert must write is one a query needs).
--
-- - ix_raw_import_records_unprocessed (0002, on the records WHERE NOT is_processed): every record
--   is unprocessed when imported, so every insert wrote it, and no query reads it: cleansing pages
--   on `cleansed_data IS NULL` through the (client_account_id, data_import_id, row_number) key,
--   nothing filters on is_processed. Dropped.
-- - ix_raw_import_records_client_account_id_asset_id (0001): it backs the foreign key to assets
--   (ON DELETE SET NULL: the action's UPDATE looks records up by asset) and the lookups of an
--   asset's records. Every one compares asset_id with a value, which a NULL never equals, and a
--   record has no asset until the cleansing pass links it: the index is now partial (WHERE asset_id
--   IS NOT NULL), so importing writes nothing to it.
--
-- Kept, each written by every insert because a query needs it:
-- - the primary key (client_account_id, id) and the unique (client_account_id, data_import_id,
--   row_number): the cleansing pass's updates by id, the keyset pages of an import, a resumed
--   import's last row, and exactly-once rows.
-- - (client_account_id, engagement_id) and (client_account_id, master_flow_id): the actions of the
--   foreign keys to engagements (ON DELETE CASCADE) and master flows (ON DELETE SET NULL) look the
--   records up by them, once per deleted engagement or flow, across every tenant's records (a
--   foreign key's action ignores row-level security): without them, deleting an account's
--   engagements would scan the whole table once per engagement. Every imported record has both set,
--   so no partial index would spare the import.
-- - ix_raw_import_records_invalid (0002, WHERE NOT is_valid): only invalid records are written to
--   it (the summary lists them), so a valid record costs it nothing but the predicate.
--
-- Built concurrently (writes go on meanwhile), statement by statement; IF [NOT] EXISTS lets a re-run
-- finish after an interruption (the runner drops an INVALID index left by an interrupted build).
-- The partial index is built under a new name before the full one is dropped, so the foreign key's
-- action always has one.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_raw_import_records_asset_id
    ON migration.raw_import_records (client_account_id, asset_id) WHERE asset_id IS NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_raw_import_records_client_account_id_asset_id;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_raw_import_records_unprocessed;

RESET lock_timeout;
