-- Sign-in sessions of the web UI (`POST /api/v1/auth/login`). Like the API tokens (0005) they live
-- in the tool's bookkeeping schema: `migration` holds exactly the 43 domain tables.
--
-- The browser holds a random 256-bit session id in an HttpOnly, SameSite=Strict cookie; only its
-- SHA-256 is stored (a random 256-bit value needs no slow hash: nothing to guess by brute force),
-- so a read of this table cannot be replayed. Signing out or expiry ends a session; ended rows
-- stay as an audit trail of sign-ins.

SET LOCAL lock_timeout = '5s';

CREATE TABLE modernize.sessions (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL,
    secret_sha256 text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz,
    revoked_at timestamptz,
    user_agent text,
    CONSTRAINT sessions_pkey PRIMARY KEY (id),
    CONSTRAINT sessions_secret_sha256_key UNIQUE (secret_sha256),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES migration.users (id) ON DELETE CASCADE,
    CONSTRAINT sessions_expiry_check CHECK (expires_at > created_at)
);
COMMENT ON TABLE modernize.sessions IS
    'Web sign-in sessions: the SHA-256 of a random cookie value, an expiry, revoked on sign-out.';
CREATE INDEX ix_sessions_user_id ON modernize.sessions (user_id);

GRANT SELECT, INSERT, UPDATE ON modernize.sessions TO modernize_app;
