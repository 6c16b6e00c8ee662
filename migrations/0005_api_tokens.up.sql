-- API tokens of users, for machine access to the coming REST API. Like the job queue they live in
-- the tool's bookkeeping schema: `migration` holds exactly the 43 domain tables.
--
-- A token is shown once, when it is created: `mdz_<prefix>_<secret>`. The prefix is stored in the
-- clear to find the row; only an argon2 hash of the secret is kept. Revoked and expired tokens stay
-- as an audit trail.

SET LOCAL lock_timeout = '5s';

CREATE TABLE modernize.api_tokens (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    secret_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT api_tokens_prefix_key UNIQUE (prefix),
    CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT api_tokens_name_check CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT api_tokens_expiry_check CHECK (expires_at IS NULL OR expires_at > created_at)
);
COMMENT ON TABLE modernize.api_tokens IS
    'API tokens of users: a public prefix and an argon2 hash of the secret; shown once, revocable.';
CREATE INDEX ix_api_tokens_user_id ON modernize.api_tokens (user_id);

GRANT SELECT, INSERT, UPDATE ON modernize.api_tokens TO modernize_app;
