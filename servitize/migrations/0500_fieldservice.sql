-- Field service: calendars, technicians, parts, contracts, dispatch policies, work orders with
-- their alerts, audit/event feed, time entries, parts used, notes and attachments.

CREATE TABLE fs_calendars (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL DEFAULT '',
    work_start  time NOT NULL DEFAULT '09:00',
    work_end    time NOT NULL DEFAULT '18:00',
    -- ISO weekdays 1 (Monday) .. 7 (Sunday)
    weekdays    smallint[] NOT NULL DEFAULT '{1,2,3,4,5}'
);
INSERT INTO fs_calendars (id, name) VALUES ('default', 'Mon-Fri 09:00-18:00');

-- Public holidays and make-up working days (调休), configured per year.
CREATE TABLE fs_calendar_days (
    calendar_id  text NOT NULL REFERENCES fs_calendars (id) ON DELETE CASCADE,
    day          date NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name         text NOT NULL DEFAULT '',
    PRIMARY KEY (calendar_id, day)
);

CREATE TABLE fs_technicians (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL,
    skills      text[] NOT NULL DEFAULT '{}',
    sites       text[] NOT NULL DEFAULT '{}',
    latitude    double precision,
    longitude   double precision,
    work_start  time NOT NULL DEFAULT '08:00',
    work_end    time NOT NULL DEFAULT '18:00',
    -- the `technician` API key this person signs in with
    api_key_id  text UNIQUE REFERENCES api_keys (id) ON DELETE SET NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The price list; a part used keeps the price it had when it was used.
CREATE TABLE fs_parts (
    part_no      text PRIMARY KEY CHECK (part_no ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    description  text NOT NULL DEFAULT '',
    unit_price   bigint NOT NULL CHECK (unit_price >= 0),
    active       boolean NOT NULL DEFAULT true
);

CREATE TABLE fs_contracts (
    id               bigserial PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    subscription_id  bigint REFERENCES billing_subscriptions (id),
    name             text NOT NULL DEFAULT '',
    calendar_id      text NOT NULL DEFAULT 'default' REFERENCES fs_calendars (id),
    start_date       date NOT NULL,
    end_date         date,
    -- empty = every device type / site of the tenant
    device_types     text[] NOT NULL DEFAULT '{}',
    sites            text[] NOT NULL DEFAULT '{}',
    -- {"p1": {"response": 120, "resolution": 480}, ...} in business minutes
    priorities       jsonb NOT NULL,
    labour_rate      bigint NOT NULL DEFAULT 0 CHECK (labour_rate >= 0),
    travel_rate      bigint NOT NULL DEFAULT 0 CHECK (travel_rate >= 0),
    visit_price      bigint NOT NULL DEFAULT 0 CHECK (visit_price >= 0),
    included_visits  integer NOT NULL DEFAULT 0 CHECK (included_visits >= 0),
    labour_covered   boolean NOT NULL DEFAULT false,
    parts_covered    boolean NOT NULL DEFAULT false,
    labour_vat       numeric(6, 4) NOT NULL DEFAULT 0.06,
    parts_vat        numeric(6, 4) NOT NULL DEFAULT 0.13,
    -- [{"clock": "response", "over_minutes": 120, "amount": 50000}]
    credit_tiers     jsonb NOT NULL DEFAULT '[]',
    resolve_alerts   boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR end_date > start_date)
);
CREATE INDEX fs_contracts_tenant_idx ON fs_contracts (tenant_id);

-- Which alerts open a work order by themselves (NULL = any).
CREATE TABLE fs_policies (
    id            bigserial PRIMARY KEY,
    tenant_id     text REFERENCES tenants (id) ON DELETE CASCADE,
    rule          text,
    device_type   text REFERENCES device_types (id) ON DELETE CASCADE,
    min_severity  text NOT NULL DEFAULT 'major'
                  CHECK (min_severity IN ('info', 'warning', 'major', 'critical')),
    priority      text NOT NULL CHECK (priority ~ '^p[1-4]$'),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Preventive maintenance of a contract (e.g. a quarterly robot inspection), generated ahead.
CREATE TABLE fs_schedules (
    id            bigserial PRIMARY KEY,
    contract_id   bigint NOT NULL REFERENCES fs_contracts (id) ON DELETE CASCADE,
    device_id     text REFERENCES devices (id) ON DELETE CASCADE,
    site_id       text REFERENCES sites (id) ON DELETE CASCADE,
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    every_months  integer NOT NULL CHECK (every_months BETWEEN 1 AND 120),
    next_due      date NOT NULL,
    priority      text NOT NULL DEFAULT 'p4' CHECK (priority ~ '^p[1-4]$'),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fs_schedules_due_idx ON fs_schedules (next_due) WHERE active;

-- WO-<year>-<n>, numbered without gaps per year.
CREATE TABLE fs_number_counters (
    year        integer PRIMARY KEY,
    last_value  bigint NOT NULL DEFAULT 0
);

CREATE TABLE fs_work_orders (
    id               bigserial PRIMARY KEY,
    number           text NOT NULL UNIQUE,
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id          text REFERENCES sites (id) ON DELETE SET NULL,
    device_id        text REFERENCES devices (id) ON DELETE SET NULL,
    contract_id      bigint REFERENCES fs_contracts (id),
    source           text NOT NULL
                     CHECK (source IN ('alert', 'policy', 'request', 'manual', 'preventive')),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '',
    priority         text NOT NULL CHECK (priority ~ '^p[1-4]$'),
    state            text NOT NULL DEFAULT 'new',
    hold_reason      text,
    technician_id    text REFERENCES fs_technicians (id),
    scheduled_for    timestamptz,
    required_skills  text[] NOT NULL DEFAULT '{}',
    -- fixed at creation: the targets, the calendar they were computed with, the deadlines
    response_target    integer,
    resolution_target  integer,
    sla_calendar     jsonb,
    response_due     timestamptz,
    resolution_due   timestamptz,
    response_breach    numeric(12, 2),
    resolution_breach  numeric(12, 2),
    paused_minutes   numeric(12, 2) NOT NULL DEFAULT 0,
    resolve_alerts   boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL,
    accepted_at      timestamptz,
    completed_at     timestamptz,
    closed_at        timestamptz,
    signed_off_at    timestamptz,
    signed_off_by    text,
    signoff_name     text,
    -- a preventive visit: its schedule and the date it is due (one work order per pair)
    schedule_id      bigint REFERENCES fs_schedules (id) ON DELETE SET NULL,
    due_date         date,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (schedule_id, due_date)
);
CREATE INDEX fs_work_orders_tenant_idx ON fs_work_orders (tenant_id, id DESC);
CREATE INDEX fs_work_orders_device_open_idx ON fs_work_orders (device_id)
    WHERE state NOT IN ('completed', 'incomplete', 'closed', 'canceled');
CREATE INDEX fs_work_orders_technician_idx ON fs_work_orders (technician_id, state);
CREATE INDEX fs_work_orders_completed_idx ON fs_work_orders (completed_at);

CREATE TABLE fs_work_order_alerts (
    alert_id       bigint PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    work_order_id  bigint NOT NULL REFERENCES fs_work_orders (id) ON DELETE CASCADE,
    attached_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fs_work_order_alerts_wo_idx ON fs_work_order_alerts (work_order_id);

-- Every change of every work order: the audit trail and the stream (id = event id).
CREATE TABLE fs_events (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES fs_work_orders (id) ON DELETE CASCADE,
    tenant_id      text NOT NULL,
    at             timestamptz NOT NULL,
    actor          text NOT NULL,
    action         text NOT NULL,
    from_state     text,
    to_state       text,
    detail         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX fs_events_wo_idx ON fs_events (work_order_id, id);
CREATE INDEX fs_events_tenant_idx ON fs_events (tenant_id, id);

CREATE FUNCTION fs_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('servitize_fieldservice', NEW.id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER fs_events_notify AFTER INSERT ON fs_events
    FOR EACH ROW EXECUTE FUNCTION fs_notify_event();

CREATE TABLE fs_time_entries (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES fs_work_orders (id) ON DELETE CASCADE,
    technician_id  text NOT NULL REFERENCES fs_technicians (id),
    kind           text NOT NULL CHECK (kind IN ('travel', 'work')),
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz NOT NULL,
    note           text NOT NULL DEFAULT '',
    created_by     text NOT NULL,
    CHECK (ended_at > started_at)
);
CREATE INDEX fs_time_entries_tech_idx ON fs_time_entries (technician_id, started_at);
CREATE INDEX fs_time_entries_wo_idx ON fs_time_entries (work_order_id);

CREATE TABLE fs_part_uses (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES fs_work_orders (id) ON DELETE CASCADE,
    part_no        text NOT NULL REFERENCES fs_parts (part_no),
    description    text NOT NULL,
    quantity       numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price     bigint NOT NULL CHECK (unit_price >= 0),
    at             timestamptz NOT NULL,
    created_by     text NOT NULL
);
CREATE INDEX fs_part_uses_wo_idx ON fs_part_uses (work_order_id);

CREATE TABLE fs_notes (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES fs_work_orders (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL,
    author         text NOT NULL,
    body           text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000)
);
CREATE INDEX fs_notes_wo_idx ON fs_notes (work_order_id, id);

CREATE TABLE fs_attachments (
    id             bigserial PRIMARY KEY,
    work_order_id  bigint NOT NULL REFERENCES fs_work_orders (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    content_type   text NOT NULL,
    size           integer NOT NULL CHECK (size BETWEEN 1 AND 786432),
    sha256         text NOT NULL,
    data           bytea NOT NULL,
    at             timestamptz NOT NULL,
    created_by     text NOT NULL
);
CREATE INDEX fs_attachments_wo_idx ON fs_attachments (work_order_id);
