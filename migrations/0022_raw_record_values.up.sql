-- An imported record's cells stored as a text array in the file's column order, the header kept
-- once on its import, instead of one JSON object per record repeating every column name (issue 16,
-- ingest: a record's row was about 3.3 times its line of the file, and PostgreSQL parsed each
-- object as jsonb).
-- modernize:online-safe (nullable columns without a default, a function; nothing running breaks)
--
-- - data_imports.raw_headers: the file's column names, in order (the header as ingest named them:
--   trimmed, none empty, none twice). NULL for imports made before this migration.
-- - raw_import_records.raw_values: the record's cells in the header's order, as many as the header
--   has (NULL for an empty cell, as the object's null). raw_data stays for the records that have
--   no such array: those imported before this migration, those the consolidation brought from
--   v3_raw_import_records, and a row with more cells than the header (refused as invalid; its extra
--   cells are kept under the names `_extra_1`, ...). One of the two is always there.
-- - migration.record_data(raw_data, raw_headers, raw_values): the record as the object it always
--   was ({header: cell}); what every reader of a record's raw values goes through.

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.data_imports ADD COLUMN raw_headers text[];

COMMENT ON COLUMN migration.data_imports.raw_headers IS
    'The file''s column names in order, for its records'' raw_values; NULL for imports made before migration 0022.';

ALTER TABLE migration.raw_import_records ADD COLUMN raw_values text[];

COMMENT ON COLUMN migration.raw_import_records.raw_values IS
    'The record''s cells in the order of its import''s raw_headers (NULL: an empty cell); NULL when raw_data holds the record.';

-- No client breaks: the previous version writes raw_data always and reads only the records it
-- wrote (a flow's phases run on one version, the deploy's smoke test on the new one).
-- squawk-ignore ban-drop-not-null
ALTER TABLE migration.raw_import_records ALTER COLUMN raw_data DROP NOT NULL;

COMMENT ON COLUMN migration.raw_import_records.raw_data IS
    'The record as {header: cell} when raw_values does not hold it (imports before migration 0022, consolidated v3 records, rows longer than the header).';

-- Every row has raw_data (it was NOT NULL until now): the check holds for them without a scan of
-- the table, which VALIDATE would make under this migration's lock.
ALTER TABLE migration.raw_import_records ADD CONSTRAINT raw_import_records_raw_check
    CHECK (raw_data IS NOT NULL OR raw_values IS NOT NULL) NOT VALID;

CREATE FUNCTION migration.record_data(raw_data jsonb, raw_headers text[], raw_values text[])
    RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(raw_data, jsonb_object(raw_headers, raw_values)) $$;

COMMENT ON FUNCTION migration.record_data(jsonb, text[], text[]) IS
    'An imported record as {header: cell}: its raw_data, else its import''s raw_headers paired with its raw_values.';
