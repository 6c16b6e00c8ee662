-- The issues of an import that no record of it holds (issue 14 item 6): the rows of an RVTools
-- workbook's other sheets (vHost, vDisk, vPartition, vNetwork) that were not read or matched no
-- VM, and the ESXi hosts whose identity matched no asset, or not uniquely. The import's records
-- keep their own issues (raw_import_records); these were only counted, the first 20 named in the
-- dependency phase's figures, and now are listed and downloaded with them.
-- modernize:online-safe (a column with a constant default: no rewrite, no backfill)
--
-- A jsonb array rather than a table: the schema stays the consolidated 43 tables, and the list
-- is written whole by each run of the dependency phase (a re-run writes the same) and read in
-- file order by the issues listing.

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.data_imports ADD COLUMN sheet_issues jsonb NOT NULL DEFAULT '[]';

COMMENT ON COLUMN migration.data_imports.sheet_issues IS
    'Issues of the import that no record holds, in order: [{sheet, row, column, value, severity, kind, message}] (sheet NULL: the sheet or file the import read), written by the dependency phase.';
