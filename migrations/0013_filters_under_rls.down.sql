-- modernize:no-transaction
-- Reverses 0013: its indexes go, 0010's lower(environment) index comes back.
-- modernize:lossless (indexes only)

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_lower_environment
    ON migration.assets (client_account_id, engagement_id, lower(environment));

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_search_trgm;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_environment_ci;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_server;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_database;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_application;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_network;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_load_balancer;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_storage;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_security_group;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_virtual_machine;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_container;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_asset_type_other;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_rehost;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_replatform;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_refactor;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_rearchitect;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_repurchase;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_retire;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_retain;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_criticality_low;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_criticality_medium;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_criticality_high;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_criticality_critical;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_business_criticality_low;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_business_criticality_medium;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_business_criticality_high;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_business_criticality_critical;

RESET lock_timeout;
