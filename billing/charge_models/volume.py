"""Volume pricing: the tier the total count falls in prices every device."""

from __future__ import annotations

from decimal import Decimal

from billing.models import Tier


def _tier_for(count: int, tiers: tuple[Tier, ...]) -> Tier:
    """The first tier whose upper bound holds `count` (the open tier otherwise)."""
    return next(t for t in tiers if t.up_to is None or count <= t.up_to)


class VolumeModel:
    """All devices at the unit price of the tier that contains the device count."""

    name = "volume"

    def monthly_price(self, count: int, tiers: tuple[Tier, ...]) -> Decimal:
        """count x the matching tier's price (+ its flat fee); zero devices cost nothing."""
        if count == 0:
            return Decimal(0)
        tier = _tier_for(count, tiers)
        return count * tier.unit_price + tier.flat_fee

    def describe(self, count: int, tiers: tuple[Tier, ...]) -> list[dict[str, object]]:
        """One row: the matching tier."""
        tier = _tier_for(max(count, 1), tiers)
        return [{"up_to": tier.up_to, "devices": count, "unit_price": str(tier.unit_price)}]
