-- Operations (issue 17): the maintenance flag every `serve` and `worker` polls, the record of
-- deployments and rollbacks, and the `deployment_health` view (seed task 6.3) that `modernize
-- status`, `/ready` and `/metrics` read. All of it lives in the bookkeeping schema.
-- modernize:online-safe (new tables and a view only: nothing running is locked or changed)

SET LOCAL lock_timeout = '5s';

-- One row, always present: whether writes are refused and workers idle, since when and why.
CREATE TABLE modernize.maintenance (
    singleton boolean NOT NULL DEFAULT true,
    active boolean NOT NULL DEFAULT false,
    reason text,
    retry_after_seconds integer NOT NULL DEFAULT 60,
    started_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT maintenance_pkey PRIMARY KEY (singleton),
    CONSTRAINT maintenance_singleton_check CHECK (singleton),
    CONSTRAINT maintenance_retry_after_check CHECK (retry_after_seconds BETWEEN 1 AND 3600)
);
COMMENT ON TABLE modernize.maintenance IS
    'The maintenance flag (one row): while active, serve answers writes with 503 and workers claim no job.';
INSERT INTO modernize.maintenance (singleton) VALUES (true);

-- A deployment or a rollback, with each step's duration (steps: [{name, ms, detail}]).
CREATE TABLE modernize.deployments (
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL,
    status text NOT NULL,
    tool_version text NOT NULL,
    schema_from bigint NOT NULL,
    schema_to bigint NOT NULL,
    migrations jsonb NOT NULL DEFAULT '[]'::jsonb,
    backup_dir text,
    rollback_of bigint,
    method text,
    steps jsonb NOT NULL DEFAULT '[]'::jsonb,
    maintenance_ms bigint NOT NULL DEFAULT 0,
    error text,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deployments_pkey PRIMARY KEY (id),
    CONSTRAINT deployments_kind_check CHECK (kind IN ('deploy', 'rollback')),
    CONSTRAINT deployments_status_check CHECK (status IN ('succeeded', 'failed')),
    CONSTRAINT deployments_method_check CHECK (method IN ('down_migrations', 'backup_restore')),
    CONSTRAINT deployments_maintenance_ms_check CHECK (maintenance_ms >= 0)
);
COMMENT ON TABLE modernize.deployments IS
    'Deployments and rollbacks run by `modernize deploy` / `modernize rollback`: versions, migrations, backup, step durations, downtime.';

-- Seed task 6.3's figures (table count, active flows, recent errors) and the operator's: the job
-- queue, the last deployment and the maintenance state. Recent means the last 24 hours. Read by the
-- tool's own connection (owner of the tables), so every tenant is counted.
CREATE VIEW modernize.deployment_health AS
SELECT
    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'migration' AND c.relkind IN ('r', 'p')) AS table_count,
    (SELECT count(*) FROM migration.crewai_flow_state_extensions
      WHERE flow_status IN ('initialized', 'running', 'paused', 'pending')) AS active_flows,
    (SELECT count(*) FROM migration.crewai_flow_state_extensions
      WHERE flow_status = 'failed' AND updated_at > now() - interval '24 hours')
      + (SELECT count(*) FROM modernize.jobs
          WHERE last_error IS NOT NULL AND updated_at > now() - interval '24 hours') AS recent_errors,
    (SELECT count(*) FROM modernize.jobs WHERE status = 'queued') AS jobs_queued,
    (SELECT count(*) FROM modernize.jobs WHERE status = 'running') AS jobs_running,
    (SELECT count(*) FROM modernize.jobs WHERE status = 'failed') AS jobs_failed,
    (SELECT extract(epoch FROM now() - min(run_at))::double precision FROM modernize.jobs
      WHERE status = 'queued' AND run_at <= now()) AS oldest_queued_job_age_seconds,
    d.id AS last_deployment_id,
    d.kind AS last_deployment_kind,
    d.status AS last_deployment_status,
    d.schema_to AS last_deployment_schema,
    d.finished_at AS last_deployment_at,
    m.active AS maintenance,
    m.reason AS maintenance_reason,
    m.started_at AS maintenance_since
FROM modernize.maintenance m
LEFT JOIN LATERAL (
    SELECT id, kind, status, schema_to, finished_at FROM modernize.deployments ORDER BY id DESC LIMIT 1
) d ON true;
COMMENT ON VIEW modernize.deployment_health IS
    'Health of the deployment (seed task 6.3): tables, active flows, errors and jobs of the last 24 h, queue, last deployment, maintenance.';
