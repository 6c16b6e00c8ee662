-- modernize:no-transaction
-- Every filter of the asset list (repo::assets::push_filter) as an index condition under the
-- row-level security policies (issue 16 item 3).
--
-- Why 0010's indexes are not enough: a tenant query runs as modernize_app, so the planner puts the
-- policy's qual first and may move a query's own qual below it (into an index condition) only
-- when every function the qual applies to a column is LEAKPROOF. uuid, integer and text
-- comparisons are; enum comparisons (enum_eq), lower() and ILIKE are not, and only a superuser
-- can mark a function LEAKPROOF (the migrations run as the database's owner, not necessarily a
-- superuser). So under RLS an enum, environment or search filter was a Filter on the rows of the
-- engagement's index range: at 1M assets (100 tenants), six_r_strategy = 'rearchitect' (no such
-- asset) read the tenant's 10,000 rows, 0.01 ms as owner, 107 ms under RLS; a search that matches
-- one asset read them all too. Casting the enum to text does not help: the cast calls enum_out,
-- which is neither leakproof nor immutable (no expression index either).
--
-- Enum filters (asset_type, six_r_strategy, criticality, business_criticality): one partial index
-- per value. The planner proves a partial index usable from the query's quals without evaluating
-- them on any row (leakproofness is not needed) and drops the implied qual, so the scan reads only
-- the matching rows. Keyed (client_account_id, engagement_id, name, id): the default order of the
-- list (by name) walks it without sorting; another order sorts the matching rows only. Each asset
-- is in one index per column, so an insert costs as many index entries as one full index per
-- column would. A value added to one of these enums needs its index (tests/query_plans.rs checks
-- every value of each enum).
--
-- Environment (free text, compared ignoring case): an ICU collation that ignores case and a
-- B-tree under it. The filter becomes environment = $1 COLLATE migration.case_insensitive: texteq
-- is leakproof whatever the collation, and the collation needs no function call on the column.
-- It replaces 0010's lower(environment) index.
--
-- Search (a part of the name, hostname, IP address or FQDN, any case): a trigram GIN index
-- (pg_trgm, a trusted extension: the database's owner may create it) on the four columns joined.
-- ILIKE is not leakproof, so under RLS the planner cannot use it in the query itself;
-- asset_ids_matching runs the ILIKE on the index as the function's owner (SECURITY DEFINER) and
-- returns the ids, and the list pins them (id = ANY(...), uuid equality: an index condition) as
-- well as keeping each column's own ILIKE. Isolation still rests on the policies: the function
-- only looks at the engagement of the transaction's client account (the setting the policies
-- read), returns ids and nothing else, and the rows themselves are read under RLS. It runs the
-- query with EXECUTE so that it is planned for the actual pattern (a pattern too short or too
-- common for the trigrams scans the engagement's rows instead).
--
-- operating_system (ILIKE, a part of the name): not indexed. Its values are few and common
-- ("windows" matches half the assets), so walking the sort index with the filter is the plan
-- for it as owner too.
--
-- The collation, pg_trgm and the functions come from 0012 (one transaction). Here the indexes,
-- CONCURRENTLY and IF [NOT] EXISTS, statement by statement: it applies to a live
-- database and a re-run finishes an interrupted one.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_server
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'server';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_database
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'database';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_application
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'application';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_network
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'network';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_load_balancer
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'load_balancer';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_storage
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'storage';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_security_group
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'security_group';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_virtual_machine
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'virtual_machine';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_container
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'container';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_asset_type_other
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE asset_type = 'other';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_rehost
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'rehost';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_replatform
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'replatform';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_refactor
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'refactor';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_rearchitect
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'rearchitect';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_repurchase
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'repurchase';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_retire
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'retire';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_retain
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE six_r_strategy = 'retain';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_criticality_low
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE criticality = 'low';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_criticality_medium
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE criticality = 'medium';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_criticality_high
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE criticality = 'high';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_criticality_critical
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE criticality = 'critical';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_business_criticality_low
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE business_criticality = 'low';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_business_criticality_medium
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE business_criticality = 'medium';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_business_criticality_high
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE business_criticality = 'high';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_business_criticality_critical
    ON migration.assets (client_account_id, engagement_id, name, id) WHERE business_criticality = 'critical';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_list_environment_ci
    ON migration.assets (client_account_id, engagement_id, (environment COLLATE migration.case_insensitive));

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_list_lower_environment;

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_search_trgm
    ON migration.assets USING gin (migration.asset_search_text(name, hostname, ip_address, fqdn) gin_trgm_ops);

RESET lock_timeout;
