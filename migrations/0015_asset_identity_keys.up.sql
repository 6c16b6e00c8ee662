-- The keys an asset is known by, so that a later import matches it on any of them (issue 14 item 3).
-- modernize:online-safe (a column with a constant default: no rewrite, no backfill; a function)
--
-- dedup_key (0007) is one identity per asset: a record's strongest key. A CMDB export (serial,
-- FQDN, hostname) and an RVTools export (VM UUID with its vCenter, VM name) of one server share
-- only a weaker key, the hostname, so they made two assets. An asset is now known by
-- migration.asset_identity_keys(...): the keys of its own serial number, FQDN and hostname
-- columns, its dedup_key when that is a VM UUID key, and identity_keys, the keys of the records
-- it was made from (the VM UUID key is in no column; a renamed server keeps its old name's key).
-- The inventory matches a record to the asset it shares its strongest key with unless a stronger
-- key contradicts (the order and the rules: discovery/identity.rs, docs/architecture.md).
--
-- Because the columns' keys are computed where they are matched, every asset has them whoever
-- wrote it (an import, a derived ESXi host, a consolidation, a COPY, a hand edit) and existing
-- assets need no backfill. No index: the inventory joins the keys of the engagement's assets to
-- its records' keys in one hash join over the engagement's index range; a GIN index would not
-- serve it, and under row-level security its && operator (not leakproof) could not be an index
-- condition (see 0013).

SET LOCAL lock_timeout = '5s';

ALTER TABLE migration.assets ADD COLUMN identity_keys varchar(1024)[] NOT NULL DEFAULT '{}';

COMMENT ON COLUMN migration.assets.identity_keys IS
    'Keys of the records the asset was made from (uuid:<vcenter>/<uuid>, serial:<sn>, fqdn:<name>, host:<name>), lower-case, distinct, sorted; with its columns'' keys, what a later import matches it on (migration.asset_identity_keys).';

CREATE FUNCTION migration.asset_identity_keys(
    identity_keys text[], dedup_key text, serial_number text, fqdn text, hostname text)
RETURNS varchar(1024)[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY(
    SELECT DISTINCT k FROM unnest(identity_keys || ARRAY[
        CASE WHEN dedup_key LIKE 'uuid:%' THEN dedup_key END,
        'serial:' || lower(nullif(btrim(serial_number), '')),
        'fqdn:' || lower(nullif(btrim(fqdn), '')),
        'host:' || lower(nullif(btrim(hostname), ''))]) k
    WHERE k IS NOT NULL
    ORDER BY k);

COMMENT ON FUNCTION migration.asset_identity_keys(text[], text, text, text, text) IS
    'Every key an asset is known by: its identity_keys, its dedup_key when a VM UUID key, and the keys of its serial number, FQDN and hostname as discovery/identity.rs makes them; distinct, sorted.';
