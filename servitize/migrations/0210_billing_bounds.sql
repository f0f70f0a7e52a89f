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
