-- Service billing: plans, subscriptions with covered devices, invoices, credit notes.
-- Money is integer minor units (fen) with the ISO 4217 code stored next to every amount.

CREATE TABLE billing_plans (
    id                  text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name                text NOT NULL,
    currency            char(3) NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
    pricing_model       text NOT NULL CHECK (pricing_model IN ('flat', 'graduated', 'volume')),
    -- [{"up_to": 10 | null, "unit_price": "10000", "flat_fee": "0"}], prices in fen
    tiers               jsonb NOT NULL,
    -- [{"usage_type": "inspection_completed", "unit_price": "500", "included_per_device": 60}]
    usage_prices        jsonb NOT NULL DEFAULT '[]',
    -- [{"name": "Installation", "amount": 200000, "per_device": true}]
    one_off_fees        jsonb NOT NULL DEFAULT '[]',
    minimum_commitment  bigint NOT NULL DEFAULT 0 CHECK (minimum_commitment >= 0),
    sla_target          numeric(6, 3) CHECK (sla_target > 0 AND sla_target <= 100),
    -- [{"below": "99.5", "credit": "10"}]
    sla_tiers           jsonb NOT NULL DEFAULT '[]',
    -- 6 %: China's VAT rate for modern and IT services
    vat_rate            numeric(6, 4) NOT NULL DEFAULT 0.06 CHECK (vat_rate >= 0 AND vat_rate < 1),
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE billing_subscriptions (
    id          bigserial PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    plan_id     text NOT NULL REFERENCES billing_plans (id),
    -- dates in the tenant's time zone; end is exclusive
    start_date  date NOT NULL,
    end_date    date,
    trial_days  integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
    -- the subscription this one replaced (upgrade or downgrade)
    replaces    bigint REFERENCES billing_subscriptions (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (end_date IS NULL OR end_date > start_date)
);
CREATE INDEX billing_subscriptions_tenant_idx ON billing_subscriptions (tenant_id);

-- A device covered by a subscription on the dates [start_date, end_date).
CREATE TABLE billing_coverage (
    subscription_id  bigint NOT NULL REFERENCES billing_subscriptions (id) ON DELETE CASCADE,
    device_id        text NOT NULL REFERENCES devices (id),
    start_date       date NOT NULL,
    end_date         date,
    PRIMARY KEY (subscription_id, device_id, start_date),
    CHECK (end_date IS NULL OR end_date > start_date)
);
CREATE INDEX billing_coverage_device_idx ON billing_coverage (device_id);

-- The service provider's own details, copied onto every invoice.
CREATE TABLE billing_seller (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    name     text NOT NULL,
    tax_id   text NOT NULL DEFAULT '',
    address  text NOT NULL DEFAULT ''
);
INSERT INTO billing_seller (name) VALUES ('Servitize Service Provider');

CREATE TABLE billing_invoices (
    id             bigserial PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    period         text NOT NULL CHECK (period ~ '^\d{4}-(0[1-9]|1[0-2])$'),
    currency       char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status         text NOT NULL DEFAULT 'draft'
                   CHECK (status IN ('draft', 'finalized', 'paid', 'void')),
    number         text UNIQUE,
    subtotal       bigint NOT NULL,
    vat            bigint NOT NULL,
    total          bigint NOT NULL CHECK (total = subtotal + vat),
    vat_breakdown  jsonb NOT NULL DEFAULT '{}',
    buyer_name     text NOT NULL,
    buyer_tax_id   text,
    buyer_address  text,
    seller_name    text NOT NULL,
    seller_tax_id  text,
    seller_address text,
    generated_at   timestamptz NOT NULL DEFAULT now(),
    finalized_at   timestamptz,
    content_hash   text,
    paid_at        timestamptz,
    voided_at      timestamptz,
    void_reason    text,
    CHECK (status = 'draft' OR (number IS NOT NULL AND content_hash IS NOT NULL
                                AND finalized_at IS NOT NULL))
);
-- One live invoice per tenant and period; a voided one makes room for a new draft.
CREATE UNIQUE INDEX billing_invoices_period_uq ON billing_invoices (tenant_id, period)
    WHERE status <> 'void';
CREATE INDEX billing_invoices_period_idx ON billing_invoices (period, status);

CREATE TABLE billing_invoice_lines (
    invoice_id       bigint NOT NULL REFERENCES billing_invoices (id) ON DELETE CASCADE,
    line_no          integer NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('recurring', 'usage', 'overage', 'one_off',
                                                   'minimum', 'sla_credit', 'late_usage')),
    description      text NOT NULL,
    quantity         numeric NOT NULL,
    unit_price       numeric,
    amount           bigint NOT NULL,
    currency         char(3) NOT NULL,
    vat_rate         numeric(6, 4) NOT NULL,
    subscription_id  bigint,
    plan_id          text,
    usage_type       text,
    -- the month the usage happened in (differs from the invoice's period for late usage)
    usage_period     text,
    usage_quantity   bigint,
    detail           jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (invoice_id, line_no)
);
CREATE INDEX billing_invoice_lines_usage_idx ON billing_invoice_lines (subscription_id, usage_period)
    WHERE usage_type IS NOT NULL;

CREATE TABLE billing_credit_notes (
    id            bigserial PRIMARY KEY,
    invoice_id    bigint NOT NULL REFERENCES billing_invoices (id),
    number        text NOT NULL UNIQUE,
    reason        text NOT NULL CHECK (reason <> ''),
    currency      char(3) NOT NULL,
    -- [{"description": "...", "amount": 1000, "vat_rate": "0.06"}], amounts credited (> 0)
    lines         jsonb NOT NULL,
    subtotal      bigint NOT NULL CHECK (subtotal > 0),
    vat           bigint NOT NULL,
    total         bigint NOT NULL CHECK (total = subtotal + vat),
    content_hash  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_credit_notes_invoice_idx ON billing_credit_notes (invoice_id);

-- Gapless numbers per series and year: the row is locked by the issuing transaction, so a
-- rolled-back finalization gives its number back.
CREATE TABLE billing_number_counters (
    series      text NOT NULL,
    year        integer NOT NULL,
    last_value  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (series, year)
);

-- An issued invoice never changes: only finalized -> paid / void may be recorded.
CREATE FUNCTION billing_invoice_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kept billing_invoices%ROWTYPE;
BEGIN
    IF OLD.status = 'draft' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'invoice % is %: issued invoices cannot be deleted', OLD.number, OLD.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    kept := NEW;
    kept.status := OLD.status;
    kept.paid_at := OLD.paid_at;
    kept.voided_at := OLD.voided_at;
    kept.void_reason := OLD.void_reason;
    IF NEW IS DISTINCT FROM OLD AND (kept IS DISTINCT FROM OLD OR NOT (
           (OLD.status, NEW.status) IN (('finalized', 'paid'), ('finalized', 'void')))) THEN
        RAISE EXCEPTION 'invoice % is %: it cannot be changed (issue a credit note)',
            OLD.number, OLD.status USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER billing_invoices_guard BEFORE UPDATE OR DELETE ON billing_invoices
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_guard();

CREATE FUNCTION billing_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    inv bigint := CASE WHEN TG_OP = 'INSERT' THEN NEW.invoice_id ELSE OLD.invoice_id END;
BEGIN
    IF EXISTS (SELECT 1 FROM billing_invoices WHERE id = inv AND status <> 'draft')
       OR (TG_OP = 'UPDATE' AND NEW.invoice_id <> OLD.invoice_id AND EXISTS (
            SELECT 1 FROM billing_invoices WHERE id = NEW.invoice_id AND status <> 'draft')) THEN
        RAISE EXCEPTION 'invoice % is issued: its lines cannot be changed', inv
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER billing_invoice_lines_guard BEFORE INSERT OR UPDATE OR DELETE
    ON billing_invoice_lines FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_guard();

CREATE FUNCTION billing_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME
        USING ERRCODE = 'object_not_in_prerequisite_state';
END $$;
CREATE TRIGGER billing_credit_notes_immutable BEFORE UPDATE OR DELETE ON billing_credit_notes
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_lines_no_truncate BEFORE TRUNCATE ON billing_invoice_lines
    FOR EACH STATEMENT EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_invoices_no_truncate BEFORE TRUNCATE ON billing_invoices
    FOR EACH STATEMENT EXECUTE FUNCTION billing_refuse_change();
CREATE TRIGGER billing_credit_notes_no_truncate BEFORE TRUNCATE ON billing_credit_notes
    FOR EACH STATEMENT EXECUTE FUNCTION billing_refuse_change();
