-- Console (browser) users and their sessions. Passwords are Argon2id hashes (people choose
-- guessable secrets, unlike API keys); a session is stored as the SHA-256 of its cookie value.

CREATE TABLE console_users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
    display_name    text NOT NULL DEFAULT '',
    role            text NOT NULL CHECK (role IN ('admin', 'operator', 'finance', 'viewer', 'technician', 'customer')),
    tenant_id       text REFERENCES tenants (id) ON DELETE CASCADE,
    password_hash   text NOT NULL,
    failed_logins   integer NOT NULL DEFAULT 0,
    last_failed_at  timestamptz,
    locked_until    timestamptz,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_users_tenant_idx ON console_users (tenant_id);

CREATE TABLE console_sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
