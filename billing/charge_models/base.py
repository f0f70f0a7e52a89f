"""The charge model interface: a monthly price for a number of devices under price tiers."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from billing.models import Tier


class ChargeModel(Protocol):
    """Prices a device count for a whole month, in fen (unrounded Decimal)."""

    name: str

    def monthly_price(self, count: int, tiers: tuple[Tier, ...]) -> Decimal:
        """The full-month price of `count` devices."""
        ...

    def describe(self, count: int, tiers: tuple[Tier, ...]) -> list[dict[str, object]]:
        """Which tiers priced `count` devices, as rows for an invoice line's detail."""
        ...


def tier_range(tiers: tuple[Tier, ...], index: int) -> tuple[int, int | None]:
    """The (first, last) device numbers of a tier, 1-based; last None = open."""
    first = 1 if index == 0 else (tiers[index - 1].up_to or 0) + 1
    return first, tiers[index].up_to
