-- Reverses 0019: new rows get random (version 4) ids again; rows made meanwhile keep theirs.
-- modernize:lossless (column defaults and a function only)

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.sixr_recommendations ALTER COLUMN id SET DEFAULT gen_random_uuid();
ALTER TABLE migration.asset_dependencies ALTER COLUMN id SET DEFAULT gen_random_uuid();
ALTER TABLE migration.raw_import_records ALTER COLUMN id SET DEFAULT gen_random_uuid();
ALTER TABLE migration.assets ALTER COLUMN id SET DEFAULT gen_random_uuid();

DROP FUNCTION migration.uuid_v7();
