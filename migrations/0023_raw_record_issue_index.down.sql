-- modernize:no-transaction
-- Reverses 0023: the index of the records with issues goes (the queries then read the import's
-- records in row order, as before).
-- modernize:lossless (an index only)

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_raw_import_records_with_issues;

RESET lock_timeout;
