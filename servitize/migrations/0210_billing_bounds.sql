-- Issue #14: what an invoice was measured over, per-rate credit caps, runs with failures.

-- The tenant's zone and the UTC instants of the period the invoice measured, so usage is
-- assigned to one invoice whatever changes later (the next month starts where this one
-- ended). measured_until: a draft of a running month measured availability up to then.
ALTER TABLE billing_invoices
    ADD COLUMN timezone text,
    ADD COLUMN period_start timestamptz,
    ADD COLUMN period_end timestamptz,
    ADD COLUMN measured_until timestamptz,
    -- why a period that had not ended yet was finalized (forced)
    ADD COLUMN early_finalize_reason text,
    ADD CHECK (period_end IS NULL OR period_end > period_start);

-- {"0.06": 600}: the VAT credited per rate, so caps hold per rate.
ALTER TABLE billing_credit_notes ADD COLUMN vat_breakdown jsonb NOT NULL DEFAULT '{}';

-- Every billing run with the tenants it could not bill (the others are billed).
CREATE TABLE billing_runs (
    id           bigserial PRIMARY KEY,
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    drafts       integer NOT NULL DEFAULT 0,
    -- [{"tenant_id": "acme", "error": "..."}]
    failures     jsonb NOT NULL DEFAULT '[]'
);

-- Payment terms: the due date is set when the invoice is issued (terms from settings).
ALTER TABLE billing_invoices ADD COLUMN due_date date;

-- Payments recorded against issued invoices (partial payments add up; never more than due).
CREATE TABLE billing_payments (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES billing_invoices (id),
    amount      bigint NOT NULL CHECK (amount > 0),
    currency    char(3) NOT NULL,
    paid_on     date NOT NULL,
    reference   text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_payments_invoice_idx ON billing_payments (invoice_id);
CREATE TRIGGER billing_payments_immutable BEFORE UPDATE OR DELETE ON billing_payments
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

-- Invoice events (an outbox, written in the transaction of the change; read as a feed).
CREATE TABLE billing_events (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES billing_invoices (id),
    tenant_id   text NOT NULL,
    kind        text NOT NULL
                CHECK (kind IN ('issued', 'payment', 'paid', 'overdue', 'voided', 'credited')),
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX billing_events_overdue_uq ON billing_events (invoice_id) WHERE kind = 'overdue';
CREATE INDEX billing_events_tenant_idx ON billing_events (tenant_id, id);

-- Usage reported from outside the device stream (e.g. on-site support hours), idempotent by
-- the sender's event id: a retried report is stored once. Metered like device events: it
-- counts when `ts` lies in the device's covered time.
CREATE TABLE billing_usage_records (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    device_id   text NOT NULL REFERENCES devices (id),
    usage_type  text NOT NULL CHECK (usage_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    quantity    bigint NOT NULL CHECK (quantity > 0 AND quantity <= 1000000000),
    ts          timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX billing_usage_records_device_idx ON billing_usage_records (device_id, usage_type, ts);

-- Quarterly and yearly plans (prices per device and interval), billed per calendar term in
-- advance unless charged monthly (billing/terms.py).
ALTER TABLE billing_plans
    ADD COLUMN billing_interval text NOT NULL DEFAULT 'month'
        CHECK (billing_interval IN ('month', 'quarter', 'year')),
    ADD COLUMN bill_charges_monthly boolean NOT NULL DEFAULT false;

-- Coupons: a percentage or a fixed amount off each month's service charges (not one-off
-- fees), for `duration_months` months from the first one (NULL: for ever).
CREATE TABLE billing_coupons (
    code             text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,39}$'),
    name             text NOT NULL,
    percent_off      numeric(6, 3) CHECK (percent_off > 0 AND percent_off <= 100),
    amount_off       bigint CHECK (amount_off > 0),
    currency         char(3),
    duration_months  integer CHECK (duration_months > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((percent_off IS NULL) <> (amount_off IS NULL)),
    CHECK ((amount_off IS NULL) = (currency IS NULL))
);
CREATE TABLE billing_coupon_redemptions (
    tenant_id     text NOT NULL REFERENCES tenants (id),
    code          text NOT NULL REFERENCES billing_coupons (code),
    first_period  text NOT NULL CHECK (first_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, code)
);
ALTER TABLE billing_invoice_lines DROP CONSTRAINT billing_invoice_lines_kind_check,
    ADD CONSTRAINT billing_invoice_lines_kind_check CHECK (kind IN ('recurring', 'usage',
        'overage', 'one_off', 'minimum', 'sla_credit', 'late_usage', 'discount'));

-- Prepaid credit: top-ups a tenant paid ahead (a prepayment; VAT falls due on the invoices
-- it pays), consumed by its invoices when they are issued, soonest expiry first; what is
-- left of a top-up after its expiry date is not used.
CREATE TABLE billing_wallet_topups (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    amount      bigint NOT NULL CHECK (amount > 0),
    currency    char(3) NOT NULL,
    expires_on  date,
    reference   text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_wallet_topups_tenant_idx ON billing_wallet_topups (tenant_id);
CREATE TABLE billing_wallet_uses (
    topup_id    bigint NOT NULL REFERENCES billing_wallet_topups (id),
    invoice_id  bigint NOT NULL REFERENCES billing_invoices (id),
    amount      bigint NOT NULL CHECK (amount > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topup_id, invoice_id)
);
CREATE TRIGGER billing_wallet_topups_immutable BEFORE UPDATE OR DELETE ON billing_wallet_topups
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_wallet_uses_immutable BEFORE UPDATE OR DELETE ON billing_wallet_uses
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();

-- Delivery of invoice events to the tenant's webhook (analytics' webhook settings): retried
-- with backoff; `skipped` when the tenant has no enabled webhook.
ALTER TABLE billing_events
    ADD COLUMN status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error text,
    ADD COLUMN sent_at timestamptz;
CREATE INDEX billing_events_due_idx ON billing_events (next_attempt_at) WHERE status = 'pending';
