-- API keys: shown once, stored as a SHA-256 of a 256-bit random secret (a slow hash adds
-- nothing for secrets that cannot be guessed), provider-wide (tenant_id NULL) or tenant-scoped.

CREATE TABLE api_keys (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{6,32}$'),
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('admin', 'operator', 'finance', 'viewer')),
    tenant_id     text REFERENCES tenants (id) ON DELETE CASCADE,
    secret_hash   bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);
