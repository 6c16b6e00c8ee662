-- The row of the file each imported record came from, as a person sees it (the CSV line or the
-- sheet row, the header and any lines above it counted): every message about a record, a merge
-- of two records included, names the row a person finds in the file. NULL for records imported
-- before this migration, 0014 (their messages name the record).
-- modernize:online-safe (a nullable column without a default: no rewrite, nothing running breaks)

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.raw_import_records ADD COLUMN file_row bigint;

COMMENT ON COLUMN migration.raw_import_records.file_row IS
    'The record''s row in the file as a person sees it (CSV line, sheet row); NULL for records imported before migration 0014.';
