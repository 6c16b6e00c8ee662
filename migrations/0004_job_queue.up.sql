-- The durable job queue of the discovery pipeline, in the tool's bookkeeping schema (not in
-- `migration`, which holds exactly the 43 domain tables).
--
-- A job is claimed by leasing it (status 'running' + locked_until), never by holding a row lock
-- for its whole run: a worker that dies loses its lease and the job is claimed again. Jobs are
-- idempotent; dedupe_key makes enqueueing idempotent too. Jobs are enqueued in the same
-- transaction as the state change that causes them.

SET LOCAL lock_timeout = '5s';

CREATE TABLE modernize.jobs (
    id bigint GENERATED ALWAYS AS IDENTITY,
    kind text NOT NULL,
    client_account_id uuid,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    dedupe_key text,
    status text NOT NULL DEFAULT 'queued',
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 5,
    run_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    locked_by text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_pkey PRIMARY KEY (id),
    CONSTRAINT jobs_dedupe_key_key UNIQUE (dedupe_key),
    CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    CONSTRAINT jobs_attempts_check CHECK (attempts >= 0 AND max_attempts >= 1)
);
COMMENT ON TABLE modernize.jobs IS
    'Durable background jobs (discovery phases): leased by workers, retried with backoff, idempotent.';
CREATE INDEX ix_jobs_claimable ON modernize.jobs (run_at) WHERE status IN ('queued', 'running');

-- Repository calls run as modernize_app inside the caller's transaction, and jobs are enqueued in
-- that same transaction.
GRANT USAGE ON SCHEMA modernize TO modernize_app;
GRANT SELECT, INSERT, UPDATE ON modernize.jobs TO modernize_app;
