-- modernize:no-transaction
-- Reverses 0010: the indexes it dropped come back (as 0001 and 0002 built them), its own go.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_client_account_id_engagement_id
    ON migration.assets (client_account_id, engagement_id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_asset_type
    ON migration.assets (client_account_id, engagement_id, asset_type);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_environment
    ON migration.assets (client_account_id, engagement_id, environment);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_six_r_strategy
    ON migration.assets (client_account_id, engagement_id, six_r_strategy);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_status
    ON migration.assets (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_serial_number
    ON migration.assets (client_account_id, engagement_id, serial_number);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_application_name
    ON migration.assets (client_account_id, engagement_id, application_name);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_technology_stack
    ON migration.assets USING gin (technology_stack jsonb_path_ops);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_custom_attributes
    ON migration.assets USING gin (custom_attributes jsonb_path_ops);

DROP STATISTICS IF EXISTS migration.assets_tenant_engagement;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_lower_environment;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_name;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_ip_address;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_asset_type;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_environment;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_operating_system;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_criticality;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_business_criticality;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_six_r_strategy;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_migration_priority;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_migration_wave;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_cpu_cores;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_memory_gb;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_storage_gb;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_created_at;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_updated_at;

RESET lock_timeout;
