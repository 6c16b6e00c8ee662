-- modernize:no-transaction
-- Reverses 0020: its indexes go (the 6R filter sorted by hostname sorts the matching rows again).
-- modernize:lossless (indexes only)

SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_rehost_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_replatform_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_refactor_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_rearchitect_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_repurchase_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_retire_hostname;

DROP INDEX CONCURRENTLY IF EXISTS migration.ix_assets_six_r_strategy_retain_hostname;

RESET lock_timeout;
