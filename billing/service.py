"""Plans and subscriptions: the catalog side of billing. Each call is one transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from billing import coupon_repository as coupon_repo
from billing import repository as repo
from billing.errors import BillingError, InvoiceStateError, NotFound
from billing.models import Plan
from billing.money import to_major, to_minor_int
from billing.schemas import CouponIn, PlanIn, RedemptionIn, SubscriptionIn
from registry import service as registry
from servitize.db import Pool, transaction


async def save_plan(pool: Pool, plan: PlanIn) -> PlanIn:
    """Validate and store a plan (create or replace); returns it as stored."""
    try:
        model = plan.to_model()
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise BillingError(f"invalid plan {plan.id!r}: {exc}") from exc
    async with transaction(pool) as conn:
        await repo.upsert_plan(conn, model)
    return PlanIn.from_model(model)


async def list_plans(pool: Pool) -> list[PlanIn]:
    """Every plan."""
    async with pool.acquire() as conn:
        return [PlanIn.from_model(p) for p in await repo.plans(conn)]


async def subscribe(pool: Pool, sub: SubscriptionIn) -> int:
    """Create a subscription covering its devices from its start date; returns its id."""
    async with transaction(pool) as conn:
        if not await registry.tenant_exists(conn, sub.tenant_id):
            raise NotFound(f"tenant {sub.tenant_id} not found")
        [plan] = await _plans(conn, [sub.plan_id])
        currencies = await repo.tenant_currencies(conn, sub.tenant_id)
        if currencies - {plan.currency}:
            raise BillingError(
                f"tenant {sub.tenant_id} is billed in {sorted(currencies)}; one invoice per "
                f"month needs one currency, plan {plan.id} is in {plan.currency}"
            )
        await _check_devices(conn, sub.tenant_id, sub.device_ids, sub.start_date, sub.end_date)
        sub_id = await repo.insert_subscription(
            conn, sub.tenant_id, sub.plan_id, sub.start_date, sub.end_date, sub.trial_days
        )
        await repo.add_coverage(conn, sub_id, sub.device_ids, sub.start_date)
    return sub_id


async def add_device(pool: Pool, sub_id: int, device_id: str, on: date) -> None:
    """Cover one more device from a date."""
    async with transaction(pool) as conn:
        row = await _subscription(conn, sub_id)
        _check_inside(row, on, allow_start=True)
        await _check_devices(conn, row["tenant_id"], [device_id], on, row["end_date"])
        await repo.add_coverage(conn, sub_id, [device_id], on)


async def remove_device(pool: Pool, sub_id: int, device_id: str, on: date) -> None:
    """Stop covering a device from a date (it is covered up to the day before)."""
    async with transaction(pool) as conn:
        await _subscription(conn, sub_id)
        if not await repo.end_coverage(conn, sub_id, device_id, on):
            raise BillingError(f"device {device_id} is not covered by {sub_id} before {on}")


async def cancel(pool: Pool, sub_id: int, on: date) -> None:
    """End a subscription on a date (exclusive): the last charged day is the day before."""
    async with transaction(pool) as conn:
        row = await _subscription(conn, sub_id)
        _check_inside(row, on)
        await repo.set_subscription_end(conn, sub_id, on)


async def change_plan(pool: Pool, sub_id: int, plan_id: str, on: date) -> int:
    """Upgrade or downgrade from a date: the old subscription ends, a new one takes its devices."""
    async with transaction(pool) as conn:
        row = await _subscription(conn, sub_id)
        _check_inside(row, on)
        [new], [old] = await _plans(conn, [plan_id]), await _plans(conn, [row["plan_id"]])
        if new.currency != old.currency:
            raise BillingError(f"plan {plan_id} is in {new.currency}, not {old.currency}")
        devices = await repo.open_devices(conn, sub_id, on)
        await repo.set_subscription_end(conn, sub_id, on)
        new_id = await repo.insert_subscription(
            conn, row["tenant_id"], plan_id, on, row["end_date"], 0, replaces=sub_id
        )
        await repo.add_coverage(conn, new_id, devices, on)
    return new_id


async def list_subscriptions(pool: Pool, tenant_id: str | None) -> list[dict[str, Any]]:
    """Subscriptions (of one tenant, or all) with their covered devices."""
    async with pool.acquire() as conn:
        rows = await repo.subscriptions(conn, tenant_id)
    return [dict(r) for r in rows]


async def _plans(conn: Any, ids: list[str]) -> list[Plan]:
    found = await repo.plans(conn, ids)
    if len(found) != len(ids):
        raise NotFound(f"plan {ids} not found; create it first")
    return found


async def _subscription(conn: Any, sub_id: int) -> Any:
    try:
        return await repo.subscription(conn, sub_id, lock=True)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc


def _check_inside(row: Any, on: date, *, allow_start: bool = False) -> None:
    before = on < row["start_date"] if allow_start else on <= row["start_date"]
    if before or (row["end_date"] and on >= row["end_date"]):
        raise BillingError(
            f"{on} is outside subscription {row['id']} ({row['start_date']} .. {row['end_date']})"
        )


async def _check_devices(
    conn: Any,
    tenant: str,
    devices: list[str],
    start: date,
    end: date | None,
    sub: int | None = None,
) -> None:
    if bad := await registry.foreign_devices(conn, tenant, devices):
        raise BillingError(f"devices {bad} do not exist or belong to another tenant")
    if taken := await repo.conflicting_coverage(conn, devices, start, end, None):
        raise BillingError(f"devices {taken} are already covered by another subscription then")


async def set_seller(pool: Pool, name: str, tax_id: str, address: str = "") -> None:
    """Set the seller shown on invoices (issued invoices keep the details they were issued with)."""
    if not name.strip():
        raise BillingError("the seller needs a name")
    async with transaction(pool) as conn:
        await repo.set_seller(conn, name, tax_id, address)


async def save_coupon(pool: Pool, coupon: CouponIn) -> CouponIn:
    """Create or replace a coupon."""
    amount = None
    if coupon.amount_off is not None and coupon.currency is not None:
        try:
            amount = to_minor_int(coupon.amount_off, coupon.currency)
        except ValueError as exc:
            raise BillingError(f"amount_off: {exc}") from exc
    async with transaction(pool) as conn:
        await coupon_repo.upsert(conn, {**coupon.model_dump(), "amount_off": amount})
    return coupon


async def list_coupons(pool: Pool) -> list[dict[str, Any]]:
    """Every coupon, amounts in major units."""
    async with pool.acquire() as conn:
        rows = [dict(r) for r in await coupon_repo.coupons(conn)]
    for r in rows:
        if r["amount_off"] is not None:
            r["currency"] = r["currency"].strip()
            r["amount_off"] = to_major(r["amount_off"], r["currency"])
    return rows


async def redeem(pool: Pool, code: str, body: RedemptionIn) -> None:
    """A tenant redeems a coupon (once) from a month on."""
    async with transaction(pool) as conn:
        found = await coupon_repo.coupon(conn, code)
        if found is None:
            raise NotFound(f"coupon {code} not found")
        if not await registry.tenant_exists(conn, body.tenant_id):
            raise NotFound(f"tenant {body.tenant_id} not found")
        currencies = await repo.tenant_currencies(conn, body.tenant_id)
        if found["currency"] and currencies - {found["currency"].strip()}:
            raise BillingError(
                f"coupon {code} is in {found['currency']}, "
                f"the tenant is billed in {sorted(currencies)}"
            )
        if not await coupon_repo.redeem(conn, body.tenant_id, code, body.first_period):
            raise InvoiceStateError(f"tenant {body.tenant_id} has redeemed {code} already")
