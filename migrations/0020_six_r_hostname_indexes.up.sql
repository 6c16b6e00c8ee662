-- modernize:no-transaction
-- The asset list filtered by 6R strategy and sorted by hostname, answered by an index under the
-- row-level security policies (issue 16 (e): the API's list "hostname descending, 6R = rehost"
-- had p99 64.9 ms at 16 clients and 1M assets, the only list over the 50 ms aim).
--
-- Why 0013's indexes are not enough: under RLS an enum comparison is not leakproof, so the 6R
-- filter can only be answered by a partial index (0013 explains why), and 0013's are keyed by name.
-- Sorted by hostname, the list read every matching row of the engagement from the heap and sorted
-- them for a page of 100, and read them all again for the part without a hostname (the name index
-- cannot tell which have none): at 1M assets (100 tenants, 10,000 in the engagement) 1,667 rehost
-- assets, 812 buffers, 3.9 ms per page. A composite index (client_account_id, engagement_id,
-- six_r_strategy, hostname, id) does not help: the planner may not use the non-leakproof equality
-- as its index condition (checked: it keeps 0013's index and the sort).
--
-- One partial index per value keyed (client_account_id, engagement_id, hostname, id), as 0010's
-- list index on hostname: both parts of a page (with a hostname, then without) are ranges of it,
-- walked forwards or backwards, so a page reads its own rows: 0.2-0.3 ms, 32 buffers. Each asset
-- is in one of them, so an insert writes one index entry more, as one full index would. The count
-- of the filter (the list's total) reads either partial index of its value, index only.
--
-- Only hostname, the name servers are known by: an index per (filter value, sort column) for
-- every pair would be 25 enum values times 16 other sorts. Any other sort of an enum filter still
-- reads and sorts the engagement's matching rows (a sixth of them per 6R value in the benchmark's
-- data, 3.9 ms as above).
--
-- The list now writes the enum value into the statement (repo::assets::push_filter): a prepared
-- statement's generic plan can prove a partial index usable only from a constant, so with the
-- value as a parameter PostgreSQL planned every such request again (0.7 ms for the page, 0.4 ms
-- for the count at 1M assets); now it plans each value once per connection.
--
-- CONCURRENTLY and IF NOT EXISTS, statement by statement: it applies to a live database (a
-- running server of the previous version keeps working) and a re-run finishes an interrupted one.

SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_rehost_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'rehost';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_replatform_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'replatform';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_refactor_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'refactor';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_rearchitect_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'rearchitect';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_repurchase_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'repurchase';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_retire_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'retire';

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_assets_six_r_strategy_retain_hostname
    ON migration.assets (client_account_id, engagement_id, hostname, id) WHERE six_r_strategy = 'retain';

RESET lock_timeout;
