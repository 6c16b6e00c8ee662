-- What 0013's indexes need, in one transaction: pg_trgm, the case-insensitive collation and the
-- search functions (0013 explains each; the functions are not statements of a no-transaction file
-- because their bodies hold semicolons). The collation needs a server built with ICU (Debian's and
-- the official images are).
-- modernize:online-safe (an extension, a collation and functions: nothing running is locked)

SET LOCAL lock_timeout = '5s';

CREATE COLLATION migration.case_insensitive
    (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text a search looks in: the indexed expression, and the one asset_ids_matching filters on.
CREATE FUNCTION migration.asset_search_text(name text, hostname text, ip_address text, fqdn text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(name, '') || ' ' || coalesce(hostname, '') || ' ' || coalesce(ip_address, '') || ' ' || coalesce(fqdn, '') $$;

-- The ids of the assets of `engagement` (of the transaction's client account) whose search text
-- matches `pattern` (ILIKE), in no order; empty without a client account. A superset of what the
-- list's per-column ILIKE keeps (a pattern may span two joined columns).
CREATE FUNCTION migration.asset_ids_matching(engagement uuid, pattern text)
    RETURNS uuid[] LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog
    AS $$ DECLARE ids uuid[]; BEGIN
        EXECUTE 'SELECT array_agg(a.id) FROM migration.assets a'
            ' WHERE a.client_account_id = migration.current_client_account_id() AND a.engagement_id = $1'
            ' AND migration.asset_search_text(a.name, a.hostname, a.ip_address, a.fqdn) ILIKE $2'
            INTO ids USING engagement, pattern; RETURN coalesce(ids, '{}'); END $$;

REVOKE ALL ON FUNCTION migration.asset_ids_matching(uuid, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION migration.asset_ids_matching(uuid, text) TO modernize_app;
