-- modernize:no-transaction
-- Reverses 0018: the dropped indexes come back, the search keys' index goes.
-- modernize:lossless (indexes only)

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_hostname
    ON migration.assets (client_account_id, engagement_id, lower(hostname));

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_status
    ON migration.assets (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_six_r_strategy
    ON migration.assets (client_account_id, engagement_id, six_r_strategy);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_environment
    ON migration.assets (client_account_id, engagement_id, environment);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_asset_type
    ON migration.assets (client_account_id, engagement_id, asset_type);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_search_trgm
    ON migration.assets USING gin (migration.asset_search_text(name, hostname, ip_address, fqdn) gin_trgm_ops);

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_search_keys;

RESET lock_timeout;
