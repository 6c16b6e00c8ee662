-- Reverses 0012: the search functions and the collation go. The pg_trgm extension stays (it holds
-- no data, and other objects of the database may use it).
-- modernize:lossless (functions and a collation only)

SET LOCAL lock_timeout = '5s';

DROP FUNCTION migration.asset_ids_matching(uuid, text);

DROP FUNCTION migration.asset_search_text(text, text, text, text);

DROP COLLATION migration.case_insensitive;
