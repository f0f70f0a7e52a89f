-- Tenants (the provider's customers), their sites, device types with a metric catalog, devices.

CREATE TABLE tenants (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL,
    timezone    text NOT NULL DEFAULT 'Asia/Shanghai',
    tax_id      text,
    address     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        text NOT NULL,
    kind        text,
    latitude    double precision,
    longitude   double precision,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_tenant_idx ON sites (tenant_id);

CREATE TABLE device_types (
    id                    text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name                  text NOT NULL,
    description           text NOT NULL DEFAULT '',
    -- how often a healthy device reports; offline detection waits k times this
    reporting_interval_s  integer NOT NULL CHECK (reporting_interval_s > 0),
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE device_type_metrics (
    device_type_id  text NOT NULL REFERENCES device_types (id) ON DELETE CASCADE,
    metric          text NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
    unit            text NOT NULL DEFAULT '',
    min_value       double precision,
    max_value       double precision,
    description     text NOT NULL DEFAULT '',
    PRIMARY KEY (device_type_id, metric),
    CHECK (min_value IS NULL OR max_value IS NULL OR min_value <= max_value)
);

CREATE TABLE devices (
    -- the device id is also its MQTT username and a topic level, so no '/', '+' or '#'
    id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    device_type_id   text NOT NULL REFERENCES device_types (id),
    tenant_id        text NOT NULL REFERENCES tenants (id),
    site_id          text REFERENCES sites (id),
    name             text NOT NULL DEFAULT '',
    serial_number    text,
    -- mosquitto-compatible PBKDF2-SHA512 hash ($7$...), never the password itself
    credential_hash  text,
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_tenant_idx ON devices (tenant_id);
CREATE INDEX devices_site_idx ON devices (site_id);

CREATE TABLE device_status (
    device_id          text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    -- from the retained status topic (Last Will sets it offline)
    online             boolean,
    status_changed_at  timestamptz,
    -- server time of the newest accepted message, and the newest device timestamp in it
    last_seen_at       timestamptz,
    last_reading_ts    timestamptz
);

-- Registry changes wake ingest caches (LISTEN servitize_registry).
CREATE FUNCTION notify_registry_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('servitize_registry', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER devices_notify AFTER INSERT OR UPDATE OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION notify_registry_change();
CREATE TRIGGER device_type_metrics_notify AFTER INSERT OR UPDATE OR DELETE ON device_type_metrics
    FOR EACH STATEMENT EXECUTE FUNCTION notify_registry_change();
