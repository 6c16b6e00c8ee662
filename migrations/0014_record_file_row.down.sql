-- Reverses 0014: records no longer keep their file row (messages name the record instead).

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.raw_import_records DROP COLUMN file_row;
