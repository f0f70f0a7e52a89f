-- Analytics: alerts with a database-enforced single open alert per (device, rule), their
-- change feed (also the audit trail), comments, maintenance windows, webhooks with an outbox,
-- detector checkpoints and trained models.

CREATE TABLE alerts (
    id            bigserial PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id       text REFERENCES sites (id) ON DELETE SET NULL,
    device_id     text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    -- the alert key within a device: "rule:<name>", "<detector>:<metric>", "fault:<code>", "offline"
    rule          text NOT NULL,
    detector      text NOT NULL,
    metric        text,
    severity      text NOT NULL CHECK (severity IN ('info', 'warning', 'major', 'critical')),
    active        boolean NOT NULL DEFAULT true,
    acknowledged  boolean NOT NULL DEFAULT false,
    suppressed    boolean NOT NULL DEFAULT false,
    closed_at     timestamptz,
    close_reason  text CHECK (close_reason IN ('cleared_and_acknowledged', 'resolved')),
    -- episodes of the condition folded into this alert
    count         integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    -- device timestamps of the evidence
    first_ts      timestamptz NOT NULL,
    last_ts       timestamptz NOT NULL,
    cleared_ts    timestamptz,
    value         double precision,
    threshold     double precision,
    score         double precision,
    strength      double precision,
    sentence      text NOT NULL DEFAULT '',
    evidence      jsonb NOT NULL DEFAULT '{}',
    opened_at     timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by text,
    CHECK ((closed_at IS NULL) = (close_reason IS NULL))
);
-- At most one open alert per key, whatever number of detector processes run.
CREATE UNIQUE INDEX alerts_open_key ON alerts (device_id, rule) WHERE closed_at IS NULL;
CREATE INDEX alerts_tenant_idx ON alerts (tenant_id, id DESC);
CREATE INDEX alerts_device_idx ON alerts (device_id, id DESC);
CREATE INDEX alerts_open_idx ON alerts (id DESC) WHERE closed_at IS NULL;

-- Every change of every alert: the audit trail and the Server-Sent Events feed (id = event id).
CREATE TABLE alert_events (
    id         bigserial PRIMARY KEY,
    alert_id   bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    tenant_id  text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,
    action     text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
CREATE INDEX alert_events_tenant_idx ON alert_events (tenant_id, id);

CREATE FUNCTION notify_alert_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('servitize_alerts', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER alert_events_notify AFTER INSERT ON alert_events
    FOR EACH ROW EXECUTE FUNCTION notify_alert_event();

CREATE TABLE alert_comments (
    id        bigserial PRIMARY KEY,
    alert_id  bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    author    text NOT NULL,
    body      text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000)
);
CREATE INDEX alert_comments_alert_idx ON alert_comments (alert_id, id);

-- Alerts whose evidence falls inside a window are recorded as suppressed and not notified.
CREATE TABLE maintenance_windows (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id     text REFERENCES sites (id) ON DELETE CASCADE,
    device_id   text REFERENCES devices (id) ON DELETE CASCADE,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX maintenance_windows_tenant_idx ON maintenance_windows (tenant_id, ends_at);

CREATE TABLE webhooks (
    tenant_id     text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    url           text NOT NULL CHECK (url ~ '^https?://'),
    secret        text NOT NULL,
    format        text NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'dingtalk')),
    min_severity  text NOT NULL DEFAULT 'info'
                  CHECK (min_severity IN ('info', 'warning', 'major', 'critical')),
    enabled       boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Outbox: written in the alert's transaction, delivered (with retries) by the notifier.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    alert_id        bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    tenant_id       text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('open', 'escalate', 'clear')),
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';

-- Where each detector partition is in the ingest feed. Batch ids can commit out of order,
-- so ids below the high-water mark that were not yet visible are kept as gaps.
CREATE TABLE detector_checkpoints (
    partition   text PRIMARY KEY,
    last_id     bigint NOT NULL DEFAULT 0,
    gaps        bigint[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Multivariate models per device type; the newest active one scores.
CREATE TABLE analytics_models (
    id              bigserial PRIMARY KEY,
    device_type_id  text NOT NULL REFERENCES device_types (id) ON DELETE CASCADE,
    version         integer NOT NULL,
    kind            text NOT NULL,
    trained_from    timestamptz NOT NULL,
    trained_to      timestamptz NOT NULL,
    samples         integer NOT NULL,
    params          jsonb NOT NULL DEFAULT '{}',
    blob            bytea NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (device_type_id, version)
);
