-- Telemetry: one row per (device, metric, device timestamp); a redelivered reading is a no-op.
CREATE TABLE telemetry (
    device_id    text NOT NULL,
    metric       text NOT NULL,
    ts           timestamptz NOT NULL,
    value        double precision NOT NULL,
    seq          bigint,
    -- bit 1: value outside the catalog's valid range (stored, flagged, left out of rollups)
    flags        smallint NOT NULL DEFAULT 0,
    -- transaction time of the ingest batch; with ingest_batches it lets consumers find
    -- exactly the rows one batch added
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, metric, ts)
);

CREATE TABLE device_events (
    device_id    text NOT NULL,
    ts           timestamptz NOT NULL,
    type         text NOT NULL,
    code         text,
    severity     text,
    attrs        jsonb NOT NULL DEFAULT '{}',
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, type, ts)
);

-- What a device sent that we could not store, and why.
CREATE TABLE ingest_rejects (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    device_id    text,
    topic        text NOT NULL,
    reason       text NOT NULL,
    detail       text NOT NULL DEFAULT '',
    payload      text NOT NULL DEFAULT '',
    payload_bytes integer NOT NULL DEFAULT 0
);
CREATE INDEX ingest_rejects_reason_idx ON ingest_rejects (reason, received_at);
CREATE INDEX ingest_rejects_device_idx ON ingest_rejects (device_id, received_at);

-- One row per committed ingest transaction: a durable feed for detectors and rollups.
CREATE TABLE ingest_batches (
    id            bigserial PRIMARY KEY,
    -- clock time at the end of the batch's work, just before COMMIT (for latency)
    committed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    device_ids    text[] NOT NULL,
    min_ts        timestamptz,
    max_ts        timestamptz,
    readings      integer NOT NULL,
    events        integer NOT NULL,
    ingested_at   timestamptz NOT NULL DEFAULT now()
);

-- Monotonic counters, bumped inside each ingest transaction so they are exact; one row per
-- ingest instance so parallel ingest processes never wait on each other's counter rows.
-- Readers sum over instances.
CREATE TABLE ingest_counters (
    instance  text NOT NULL,
    name      text NOT NULL,
    value     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (instance, name)
);
