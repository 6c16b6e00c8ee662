-- modernize:no-transaction
-- Indexes for the asset list the API and the UI page through (issue 16): every sort and filter it
-- offers can walk an index under the row-level security policies, and indexes no query uses go.
--
-- The list (repo/assets.rs) always pins client_account_id and engagement_id by equality, then
-- orders by one sortable column and the id (keyset pagination). One B-tree per sortable column,
-- (client_account_id, engagement_id, <column>, id), gives that order directly: a page is read
-- from the index without sorting the tenant's rows, ascending forwards and descending backwards
-- (the query reads the non-empty and the empty values as two index ranges, so the NULLS LAST of
-- both directions needs no second index). The same indexes serve the equality filters on their
-- column (asset_type, six_r_strategy, criticality, business_criticality, status) and the counts
-- per 6R strategy and per type, and back the (client_account_id, engagement_id) foreign key.
-- The environment filter is case-insensitive, hence its expression index.
--
-- Superseded (same leading columns, now with the sort column and id): the four
-- (client_account_id, engagement_id, <column>) indexes of 0002 and the foreign-key index on
-- (client_account_id, engagement_id) of 0001. Dropped because no query of the platform uses them
-- (each one is a write on every asset insert and update): the GIN indexes on technology_stack and
-- custom_attributes (no containment query on them), serial_number and application_name (assets
-- are matched by dedup_key since 0007).
--
-- The planner's estimate of "client_account_id = ? AND engagement_id = ?" multiplies both
-- selectivities although an engagement belongs to one account; extended statistics tell it.
--
-- Statement by statement and CONCURRENTLY so that it applies to a live database; IF [NOT] EXISTS
-- lets a re-run finish after an interruption.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_name
    ON migration.assets (client_account_id, engagement_id, name, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_ip_address
    ON migration.assets (client_account_id, engagement_id, ip_address, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_asset_type
    ON migration.assets (client_account_id, engagement_id, asset_type, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_environment
    ON migration.assets (client_account_id, engagement_id, environment, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_operating_system
    ON migration.assets (client_account_id, engagement_id, operating_system, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_criticality
    ON migration.assets (client_account_id, engagement_id, criticality, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_business_criticality
    ON migration.assets (client_account_id, engagement_id, business_criticality, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_six_r_strategy
    ON migration.assets (client_account_id, engagement_id, six_r_strategy, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_status
    ON migration.assets (client_account_id, engagement_id, status, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_migration_priority
    ON migration.assets (client_account_id, engagement_id, migration_priority, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_migration_wave
    ON migration.assets (client_account_id, engagement_id, migration_wave, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_cpu_cores
    ON migration.assets (client_account_id, engagement_id, cpu_cores, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_memory_gb
    ON migration.assets (client_account_id, engagement_id, memory_gb, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_storage_gb
    ON migration.assets (client_account_id, engagement_id, storage_gb, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_created_at
    ON migration.assets (client_account_id, engagement_id, created_at, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_updated_at
    ON migration.assets (client_account_id, engagement_id, updated_at, id);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_lower_environment
    ON migration.assets (client_account_id, engagement_id, lower(environment));

CREATE STATISTICS IF NOT EXISTS migration.assets_tenant_engagement (dependencies)
    ON client_account_id, engagement_id FROM migration.assets;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_asset_type;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_environment;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_six_r_strategy;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_status;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_client_account_id_engagement_id;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_technology_stack;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_custom_attributes;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_serial_number;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_engagement_application_name;

RESET lock_timeout;
