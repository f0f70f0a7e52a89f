-- Fleet: downlink commands with their audit trail, device twins, firmware packages stored
-- content-addressed, staged update campaigns and each device's update.

CREATE TABLE fleet_commands (
    id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    -- the order commands of one device are sent in
    seq              bigserial NOT NULL UNIQUE,
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    device_id        text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    params           jsonb NOT NULL DEFAULT '{}',
    state            text NOT NULL DEFAULT 'QUEUED' CHECK (state IN ('QUEUED', 'SENT',
                     'DELIVERED', 'SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'EXPIRED',
                     'CANCELED')),
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- never delivered after this (NULL: no expiry)
    expires_at       timestamptz,
    -- how long a delivered command may run before it is TIMED_OUT
    timeout_s        integer NOT NULL DEFAULT 300 CHECK (timeout_s > 0),
    max_attempts     integer NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    attempts         integer NOT NULL DEFAULT 0,
    -- when a SENT command without receipt is sent again (or given up)
    next_attempt_at  timestamptz,
    sent_at          timestamptz,
    delivered_at     timestamptz,
    finished_at      timestamptz,
    result           jsonb,
    reason           text
);
CREATE INDEX fleet_commands_open_idx ON fleet_commands (device_id, seq)
    WHERE state IN ('QUEUED', 'SENT', 'DELIVERED');
CREATE INDEX fleet_commands_tenant_idx ON fleet_commands (tenant_id, seq DESC);

-- Every state change of a command, twin, update or campaign: the audit trail and change feed.
CREATE TABLE fleet_events (
    id          bigserial PRIMARY KEY,
    tenant_id   text,
    subject     text NOT NULL CHECK (subject IN ('command', 'twin', 'update', 'campaign')),
    subject_id  text NOT NULL,
    device_id   text,
    from_state  text,
    to_state    text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX fleet_events_subject_idx ON fleet_events (subject, subject_id, id);

CREATE FUNCTION fleet_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('servitize_fleet', NEW.subject || ':' || NEW.to_state || ':' || NEW.subject_id);
    RETURN NULL;
END $$;
CREATE TRIGGER fleet_events_notify AFTER INSERT ON fleet_events
    FOR EACH ROW EXECUTE FUNCTION fleet_notify();

CREATE TABLE fleet_twins (
    device_id          text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    tenant_id          text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    desired            jsonb NOT NULL DEFAULT '{}',
    desired_version    integer NOT NULL DEFAULT 0,
    reported           jsonb NOT NULL DEFAULT '{}',
    reported_version   integer NOT NULL DEFAULT 0,
    -- the desired version whose delta was last published to the device (retained)
    published_version  integer NOT NULL DEFAULT -1,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Package contents by SHA-256: the same bytes are stored once.
CREATE TABLE fleet_blobs (
    sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size        integer NOT NULL CHECK (size > 0),
    content     bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (octet_length(content) = size)
);

CREATE TABLE fleet_packages (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    device_type_id  text NOT NULL REFERENCES device_types (id),
    version         text NOT NULL CHECK (version ~ '^[0-9A-Za-z][0-9A-Za-z_.+-]{0,31}$'),
    size            integer NOT NULL,
    sha256          text NOT NULL REFERENCES fleet_blobs (sha256),
    -- Ed25519 over the SHA-256 digest with the provider's signing key, base64
    signature       text NOT NULL,
    -- versions it may be installed over (empty: any)
    from_versions   text[] NOT NULL DEFAULT '{}',
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (device_type_id, version)
);

CREATE TABLE fleet_campaigns (
    id                 text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name               text NOT NULL,
    package_id         text NOT NULL REFERENCES fleet_packages (id),
    -- target filters besides the package's device type (NULL: any)
    tenant_id          text REFERENCES tenants (id),
    site_id            text REFERENCES sites (id),
    from_version       text,
    state              text NOT NULL DEFAULT 'RUNNING' CHECK (state IN ('RUNNING', 'PAUSED',
                       'WAITING_APPROVAL', 'SUCCEEDED', 'ABORTED', 'CANCELED')),
    canary             integer NOT NULL CHECK (canary >= 1),
    -- cumulative share of the target (percent) updated by the end of each wave
    waves              integer[] NOT NULL,
    success_pct        double precision NOT NULL CHECK (success_pct BETWEEN 0 AND 100),
    abort_failure_pct  double precision NOT NULL CHECK (abort_failure_pct BETWEEN 0 AND 100),
    min_finished       integer NOT NULL CHECK (min_finished >= 1),
    rate_per_min       integer NOT NULL CHECK (rate_per_min >= 1),
    require_approval   boolean NOT NULL DEFAULT false,
    -- devices start only inside this daily window, in each device's tenant's time zone
    -- (NULL: any time); a window may wrap past midnight (22:00-04:00)
    window_start       time,
    window_end         time,
    -- keep running after the last wave and pick up devices that join the target later
    continuous         boolean NOT NULL DEFAULT false,
    timeout_s          integer NOT NULL CHECK (timeout_s > 0),
    stage              integer NOT NULL DEFAULT 0,
    reason             text,
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((window_start IS NULL) = (window_end IS NULL))
);

CREATE TABLE fleet_updates (
    campaign_id   text NOT NULL REFERENCES fleet_campaigns (id) ON DELETE CASCADE,
    device_id     text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- 0 = canary, 1.. = waves
    stage         integer NOT NULL,
    state         text NOT NULL DEFAULT 'QUEUED',
    progress      double precision NOT NULL DEFAULT 0,
    from_version  text,
    reason        text,
    started_at    timestamptz,
    -- an update in progress past this is FAILED (silent device)
    deadline      timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, device_id)
);
CREATE INDEX fleet_updates_device_idx ON fleet_updates (device_id);
