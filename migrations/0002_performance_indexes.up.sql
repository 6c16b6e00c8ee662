-- modernize:no-transaction
-- Performance indexes for the consolidated schema (seed task 2.2) and the discovery pipeline.
--
-- Written to be applied to a live database: every index is built CONCURRENTLY (so writes go on
-- while it builds), which PostgreSQL only allows outside a transaction; the runner therefore
-- executes this file statement by statement. `IF NOT EXISTS` lets a re-run finish the work after
-- an interruption; an index left INVALID by an interrupted build is dropped first by the runner's
-- repair step (see src/db/migrate.rs). lock_timeout bounds how long any statement waits for a lock.
--
-- Seed task 2.2 asked for tenant, master flow, search, composite and JSONB GIN indexes. The tenant
-- indexes (client_account_id leading) are the primary keys, and the (client_account_id,
-- engagement_id) / (client_account_id, master_flow_id) composites back foreign keys in 0001; the
-- search indexes below lead with the tenant key because every query of the platform is tenant scoped.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_asset_type
    ON migration.assets (client_account_id, engagement_id, asset_type);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_environment
    ON migration.assets (client_account_id, engagement_id, environment);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_six_r_strategy
    ON migration.assets (client_account_id, engagement_id, six_r_strategy);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_status
    ON migration.assets (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_hostname
    ON migration.assets (client_account_id, engagement_id, lower(hostname));

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_serial_number
    ON migration.assets (client_account_id, engagement_id, serial_number);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_engagement_application_name
    ON migration.assets (client_account_id, engagement_id, application_name);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_technology_stack
    ON migration.assets USING gin (technology_stack jsonb_path_ops);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_custom_attributes
    ON migration.assets USING gin (custom_attributes jsonb_path_ops);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_discovery_flows_engagement_status
    ON migration.discovery_flows (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_discovery_flows_phases
    ON migration.discovery_flows USING gin (phases jsonb_path_ops);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_discovery_flows_phases_completed
    ON migration.discovery_flows USING gin (phases_completed);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_crewai_flow_state_extensions_engagement_status
    ON migration.crewai_flow_state_extensions (client_account_id, engagement_id, flow_type, flow_status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_data_imports_engagement_status
    ON migration.data_imports (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_data_imports_created_at
    ON migration.data_imports (client_account_id, created_at DESC);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_raw_import_records_unprocessed
    ON migration.raw_import_records (client_account_id, data_import_id, row_number) WHERE NOT is_processed;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_raw_import_records_invalid
    ON migration.raw_import_records (client_account_id, data_import_id, row_number) WHERE NOT is_valid;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_import_field_mappings_reviewed
    ON migration.import_field_mappings (client_account_id, lower(source_field), status) WHERE status <> 'suggested';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_migration_waves_engagement_status
    ON migration.migration_waves (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_sixr_analyses_engagement_status
    ON migration.sixr_analyses (client_account_id, engagement_id, status);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_llm_usage_logs_created_at
    ON migration.llm_usage_logs (client_account_id, created_at DESC);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_access_audit_log_created_at
    ON migration.access_audit_log (client_account_id, created_at DESC);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_security_audit_logs_created_at
    ON migration.security_audit_logs (client_account_id, created_at DESC);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_migration_logs_created_at
    ON migration.migration_logs (client_account_id, migration_id, created_at);

RESET lock_timeout;
