"""Graduated pricing: each device is priced by the tier its position falls in."""

from __future__ import annotations

from decimal import Decimal

from billing.charge_models.base import tier_range
from billing.models import Tier


def _split(count: int, tiers: tuple[Tier, ...]) -> list[tuple[int, Tier]]:
    """How many of `count` devices fall in each tier that is reached."""
    parts: list[tuple[int, Tier]] = []
    for i, tier in enumerate(tiers):
        first, last = tier_range(tiers, i)
        if count < first:
            break
        top = count if last is None else min(count, last)
        parts.append((top - first + 1, tier))
    return parts


class GraduatedModel:
    """Devices 1..a at tier 1's price, a+1..b at tier 2's, and so on (like income tax)."""

    name = "graduated"

    def monthly_price(self, count: int, tiers: tuple[Tier, ...]) -> Decimal:
        """Sum over reached tiers of devices-in-tier x price (+ the tier's flat fee)."""
        return sum((n * t.unit_price + t.flat_fee for n, t in _split(count, tiers)), Decimal(0))

    def describe(self, count: int, tiers: tuple[Tier, ...]) -> list[dict[str, object]]:
        """One row per reached tier."""
        return [
            {"up_to": t.up_to, "devices": n, "unit_price": str(t.unit_price)}
            for n, t in _split(count, tiers)
        ]
