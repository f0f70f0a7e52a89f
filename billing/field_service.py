"""Work-order lines from field service on the monthly invoice.

Field service prices its own work (fieldservice.service.invoice_lines, plain values); this
module only turns them into invoice lines: charges as `one_off`, SLA credits as `sla_credit`,
each naming its work order. A tenant with service work but no subscription that month still
gets an invoice.
"""

from __future__ import annotations

from typing import Any

from billing.models import Line, Period
from fieldservice import service
from registry import service as registry
from servitize.db import Connection


async def add_lines(
    conn: Connection, period: Period, tenant_ids: list[str] | None, bills: dict[str, Any]
) -> None:
    """Append each tenant's work-order lines to its bill (creating the bill when needed)."""
    from billing.metering import Bill  # metering imports this module

    found = await service.invoice_lines(conn, str(period), tenant_ids)
    missing = [t for t in found if t not in bills]
    for tenant, row in (await registry.tenant_details(conn, missing)).items():
        buyer = {"name": row["name"], "tax_id": row["tax_id"], "address": row["address"]}
        bills[tenant] = Bill(tenant, buyer, "CNY")
    for tenant, charges in found.items():
        bills[tenant].lines.extend(
            Line(
                "sla_credit" if c.amount < 0 else "one_off",
                c.description,
                c.amount,
                c.vat_rate,
                quantity=c.quantity,
                unit_price=c.unit_price,
                detail={"work_order": c.work_order, "item": c.item.value, "included": c.included},
            )
            for c in charges
        )
