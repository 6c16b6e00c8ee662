-- Reverses 0015: the assets' identity keys go (a later import matches on dedup_key alone again;
-- the VM UUID keys that merged assets were seen under are lost).

SET LOCAL lock_timeout = '5s';

DROP FUNCTION migration.asset_identity_keys(text[], text, text, text, text);

ALTER TABLE migration.assets DROP COLUMN identity_keys;
