-- Reverses 0017: its functions go (0018's index, which uses asset_search_keys, must be gone first).
-- modernize:lossless (functions only)

SET LOCAL lock_timeout = '5s';

DROP FUNCTION migration.asset_ids_searching(uuid, text);

DROP FUNCTION migration.asset_search_pattern_keys(uuid, text);

DROP FUNCTION migration.asset_search_keys(uuid, text);
