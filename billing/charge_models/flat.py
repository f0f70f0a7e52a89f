"""Flat pricing: every device at the first tier's unit price."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Tier


class FlatModel:
    """count x unit price of the first tier (extra tiers are ignored by design)."""

    name = "flat"

    def monthly_price(self, count: int, tiers: tuple[Tier, ...]) -> Decimal:
        """count x unit price, plus the tier's flat fee when any device is covered."""
        tier = tiers[0]
        return tier.unit_price * count + (tier.flat_fee if count else Decimal(0))

    def describe(self, count: int, tiers: tuple[Tier, ...]) -> list[dict[str, object]]:
        """One row: all devices at the flat price."""
        return [{"devices": count, "unit_price": str(tiers[0].unit_price)}]
