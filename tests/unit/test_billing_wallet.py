"""Prepaid credit taken in order until an invoice is covered (worked by hand)."""

from __future__ import annotations

from billing.wallet import allocate


def test_top_ups_are_taken_in_order_until_the_invoice_is_covered() -> None:
    # an invoice of 318.00 against 200.00 (expires first) and 500.00: 200.00 + 118.00
    assert allocate(31800, [(1, 20000), (2, 50000)]) == [(1, 20000), (2, 11800)]
    assert allocate(31800, [(1, 50000)]) == [(1, 31800)]
    assert allocate(31800, [(1, 0), (2, 100)]) == [(2, 100)]
    assert allocate(0, [(1, 100)]) == []
