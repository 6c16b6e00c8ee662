-- Reverses 0008: who decided a mapping is no longer recorded.

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.import_field_mappings DROP COLUMN decided_by;
