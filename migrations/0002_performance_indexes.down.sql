-- modernize:no-transaction
-- Reverses 0002: drops the performance indexes without blocking writes.

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_migration_logs_created_at;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_security_audit_logs_created_at;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_access_audit_log_created_at;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_llm_usage_logs_created_at;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_sixr_analyses_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_migration_waves_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_import_field_mappings_reviewed;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_raw_import_records_invalid;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_raw_import_records_unprocessed;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_data_imports_created_at;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_data_imports_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_crewai_flow_state_extensions_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_discovery_flows_phases_completed;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_discovery_flows_phases;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_discovery_flows_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_custom_attributes;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_technology_stack;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_application_name;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_serial_number;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_six_r_strategy;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_environment;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_asset_type;

RESET lock_timeout;
