-- Reverses 0016: the issues of the workbook's other sheets and of the ESXi hosts go (the
-- dependency phase's figures still count them).

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.data_imports DROP COLUMN sheet_issues;
