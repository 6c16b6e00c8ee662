-- modernize:no-transaction
-- The engagement-tagged search keys' GIN index (0017 explains the keys), and the indexes of
-- `assets` no query needs any longer, dropped (issue 16 item 4: each index an insert must write
-- is one a query needs).
--
-- ix_assets_search_keys: what asset_ids_searching looks a search's keys up in. It replaces 0013's
-- ix_assets_search_trgm, whose posting lists span every tenant.
--
-- Dropped, each because another index answers every query it served, at the same cost:
-- - ix_assets_engagement_asset_type, ix_assets_engagement_environment,
--   ix_assets_engagement_six_r_strategy, ix_assets_engagement_status (0002): each is the leading
--   part of 0010's list index on (client_account_id, engagement_id, <column>, id), which serves
--   the same equality, range and order (the counts per 6R strategy and per type of the benchmark
--   suite, tests/query_plans.rs, read 0010's).
-- - ix_assets_engagement_hostname (0002, on lower(hostname)): no query compares lower(hostname);
--   the list sorts and pages on hostname itself (0010's index) and searches through the keys.
-- - ix_assets_search_trgm (0013): replaced, as above.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_search_keys
    ON migration.assets USING gin (migration.asset_search_keys(engagement_id, migration.asset_search_text(name, hostname, ip_address, fqdn)));

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_search_trgm;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_asset_type;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_environment;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_six_r_strategy;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_hostname;

RESET lock_timeout;
