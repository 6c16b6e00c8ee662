-- The search of the asset list made proportional to the engagement, not to the whole table
-- (issue 16): the functions here, the index in 0018.
-- modernize:online-safe (functions only: nothing running is locked)
--
-- Why: 0013's trigram index (ix_assets_search_trgm) holds every tenant's trigrams in one posting
-- list per trigram. A search such as srv-00000123 has trigrams (srv, 000) that most of the table's
-- assets share, and GIN intersects those lists across all tenants before asset_ids_matching keeps
-- the engagement's rows: 236 ms p50 over HTTP at 1M assets (100 tenants), where the engagement
-- has 10,000. A multi-column GIN with the engagement (btree_gin) was measured too: GIN skips
-- through the trigrams' posting lists to the engagement's entries, which is fast only while the
-- engagement's rows are stored together (1.3 ms) and as slow as before when they are interleaved
-- with other tenants' rows (50 ms, 1M rows, same query).
--
-- So each key is a trigram tagged with its engagement: asset_search_keys hashes every trigram of
-- the search text (pg_trgm's show_trgm) with the engagement id as the seed, and the GIN index of
-- 0018 indexes those keys. A key's posting list then holds one engagement's assets, and a search
-- reads only lists of its own engagement (0.4 ms for one hostname at 1M rows, interleaved).
--
-- What a search asks for (asset_search_pattern_keys) is the trigrams inside each run of ASCII
-- letters and digits of the lower-cased search text. Every one of them is a trigram show_trgm gives
-- any text containing that search text, whatever the case: ILIKE compares lower-cased texts, and
-- a run of ASCII letters and digits in the search lies inside a word of that text (pg_trgm's words
-- are runs of letters and digits, lower-cased), so its inner trigrams are among the word's. Hence
-- `keys @> pattern keys` never loses a match; a hash collision only lets an extra row through,
-- which the ILIKE then drops. A search with no run of three such characters (10.0.1) has no keys
-- and reads the engagement's rows, through the (client_account_id, engagement_id) index.
--
-- asset_ids_searching replaces 0013's asset_ids_matching in the list (repo::assets): a SECURITY
-- DEFINER function for the same reason (@> and ILIKE are not leakproof, so under row-level
-- security neither can be an index condition); it too looks only at the engagement of the
-- transaction's client account, returns ids only, and the rows are then read under the policies.
-- asset_ids_matching stays for a server of the previous version still running during a deploy
-- (without its index after 0018 it reads the engagement's rows).

SET LOCAL lock_timeout = '5s';

-- The keys of an asset's search text (migration.asset_search_text) in an engagement. show_trgm is
-- looked up in pg_trgm's schema when the function is created (the index must not depend on the
-- search_path of the session that inserts).
DO $do$ BEGIN
    EXECUTE format(
        'CREATE FUNCTION migration.asset_search_keys(engagement uuid, search_text text)
             RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
             AS $$ SELECT coalesce(array_agg(pg_catalog.hashtextextended(t, pg_catalog.hashtextextended(engagement::text, 0))), ''{}'')
                   FROM pg_catalog.unnest(%I.show_trgm(search_text)) t $$',
        (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'));
END $do$;

-- The keys a search for `search` (a part of the text, not a LIKE pattern) needs in `engagement`:
-- the trigrams inside its runs of ASCII letters and digits, lower-cased, hashed as above.
CREATE FUNCTION migration.asset_search_pattern_keys(engagement uuid, search text)
    RETURNS bigint[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(pg_catalog.hashtextextended(pg_catalog.substr(w, i, 3),
                                                                pg_catalog.hashtextextended(engagement::text, 0))), '{}')
          FROM pg_catalog.regexp_split_to_table(pg_catalog.lower(search), '[^a-z0-9]+') w,
               pg_catalog.generate_series(1, pg_catalog.length(w) - 2) i $$;

-- The ids of the assets of `engagement` (of the transaction's client account) whose search text
-- contains `search` in any case, in no order; empty without a client account. A superset of what
-- the list's per-column ILIKE keeps (the text joins four columns). EXECUTE plans each call for its
-- actual keys.
CREATE FUNCTION migration.asset_ids_searching(engagement uuid, search text)
    RETURNS uuid[] LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog
    AS $$ DECLARE
        keys bigint[] := migration.asset_search_pattern_keys(engagement, search);
        pattern text := '%' || replace(replace(replace(search, '\', '\\'), '%', '\%'), '_', '\_') || '%';
        ids uuid[];
    BEGIN
        IF cardinality(keys) = 0 THEN
            EXECUTE 'SELECT array_agg(a.id) FROM migration.assets a'
                ' WHERE a.client_account_id = migration.current_client_account_id() AND a.engagement_id = $1'
                ' AND migration.asset_search_text(a.name, a.hostname, a.ip_address, a.fqdn) ILIKE $2'
                INTO ids USING engagement, pattern;
        ELSE
            EXECUTE 'SELECT array_agg(a.id) FROM migration.assets a'
                ' WHERE migration.asset_search_keys(a.engagement_id,'
                '           migration.asset_search_text(a.name, a.hostname, a.ip_address, a.fqdn)) @> $3'
                ' AND a.client_account_id = migration.current_client_account_id() AND a.engagement_id = $1'
                ' AND migration.asset_search_text(a.name, a.hostname, a.ip_address, a.fqdn) ILIKE $2'
                INTO ids USING engagement, pattern, keys;
        END IF;
        RETURN coalesce(ids, '{}');
    END $$;

REVOKE ALL ON FUNCTION migration.asset_ids_searching(uuid, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION migration.asset_ids_searching(uuid, text) TO modernize_app;
