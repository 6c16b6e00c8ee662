-- modernize:no-transaction
-- One asset per identity, whatever the concurrency (issue 11 item 1, issue 14 item 3).
--
-- assets.dedup_key is how the discovery pipeline identifies an asset within its engagement (the
-- order of keys is in discovery/identity.rs and docs/architecture.md: VM UUID and vCenter, serial
-- number, FQDN, hostname, name); a unique index per engagement makes the database refuse a second
-- asset of one identity, so two imports or two workers racing each other cannot both insert it.
-- Assets entered by hand may have none (NULL is never a duplicate).
--
-- Existing assets are keyed from their columns by the same order (a VM UUID was never kept in a
-- column, so serial number first); where several already share a key (the duplicates this
-- migration exists to prevent) the oldest takes it and the others stay unkeyed: merging them would
-- overwrite data, which is a reviewer's call.
--
-- A discovery phase is enqueued once: at most one queued or running job per flow and phase
-- (duplicates already queued are cancelled, naming the job they duplicate).
--
-- Statement by statement, concurrently, so that it can be applied to a live database; IF NOT EXISTS
-- and the NULL filters let a re-run finish the work after an interruption.

SET lock_timeout = '5s';

ALTER TABLE migration.assets ADD COLUMN IF NOT EXISTS dedup_key varchar(1024);

COMMENT ON COLUMN migration.assets.dedup_key IS
    'The identity of the asset within its engagement (e.g. uuid:<vcenter>/<uuid>, serial:<sn>, fqdn:<name>, host:<name>, name:<name>, application:<name>), unique per engagement, NULL for assets entered by hand.';

UPDATE migration.assets a SET dedup_key = k.dedup_key
FROM (
    SELECT client_account_id, id, dedup_key,
           row_number() OVER (PARTITION BY client_account_id, engagement_id, dedup_key ORDER BY created_at, id) AS n
    FROM (
        SELECT client_account_id, engagement_id, id, created_at,
               CASE WHEN asset_type = 'application' AND discovery_method = 'derived'
                        THEN 'application:' || lower(btrim(name))
                    WHEN nullif(btrim(serial_number), '') IS NOT NULL THEN 'serial:' || lower(btrim(serial_number))
                    WHEN nullif(btrim(fqdn), '') IS NOT NULL THEN 'fqdn:' || lower(btrim(fqdn))
                    WHEN nullif(btrim(hostname), '') IS NOT NULL THEN 'host:' || lower(btrim(hostname))
                    ELSE 'name:' || lower(btrim(name)) END AS dedup_key
        FROM migration.assets
        WHERE dedup_key IS NULL
    ) candidates
) k
WHERE k.n = 1 AND a.client_account_id = k.client_account_id AND a.id = k.id AND a.dedup_key IS NULL
  AND NOT EXISTS (SELECT 1 FROM migration.assets o
                  WHERE o.client_account_id = a.client_account_id AND o.engagement_id = a.engagement_id
                    AND o.dedup_key = k.dedup_key);

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS assets_client_account_id_engagement_id_dedup_key_key
    ON migration.assets (client_account_id, engagement_id, dedup_key);

UPDATE modernize.jobs j SET status = 'cancelled', last_error = 'duplicate of job ' || d.kept, updated_at = now()
FROM (
    SELECT id, first_value(id) OVER (PARTITION BY payload ->> 'discovery_flow_id', payload ->> 'phase' ORDER BY id) AS kept
    FROM modernize.jobs
    WHERE kind = 'discovery.phase' AND status IN ('queued', 'running')
) d
WHERE j.id = d.id AND d.id <> d.kept;

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS jobs_pending_phase_key
    ON modernize.jobs ((payload ->> 'discovery_flow_id'), (payload ->> 'phase'))
    WHERE kind = 'discovery.phase' AND status IN ('queued', 'running');
