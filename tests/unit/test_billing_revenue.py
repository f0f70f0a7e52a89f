"""MRR movement worked by hand."""

from __future__ import annotations

from itertools import pairwise

from billing.revenue import MonthMrr, movements


def test_movements_new_expansion_contraction_churn_and_empty_month() -> None:
    amounts = {
        ("2026-10", "a"): 30000,
        ("2026-10", "b"): 30000,
        ("2026-10", "d"): 60000,
        ("2026-11", "a"): 60000,  # +30000 expansion
        ("2026-11", "c"): 30000,  # new
        ("2026-11", "d"): 30000,  # -30000 contraction; b churned (-30000)
        ("2027-01", "c"): 30000,  # December had nothing: everyone churned, c returns as new
    }
    got = movements(amounts)
    assert got == [
        MonthMrr("2026-10", 120000, 120000, 0, 0, 0, 3),
        MonthMrr("2026-11", 120000, 30000, 30000, -30000, -30000, 3),
        MonthMrr("2026-12", 0, 0, 0, 0, -120000, 0),
        MonthMrr("2027-01", 30000, 30000, 0, 0, 0, 1),
    ]
    # MRR this month = MRR last month + new + expansion + contraction + churn
    for before, now in pairwise(got):
        assert now.mrr == before.mrr + now.new + now.expansion + now.contraction + now.churn
    assert movements({}) == []
