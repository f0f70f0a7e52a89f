"""Alert severities and states are StrEnums; records of more than four fields are keyword-only."""

from __future__ import annotations

import dataclasses

import pytest

from analytics.alerts.models import AlertFilter, AlertState, Severity, StateFilter, alert_state
from analytics.detectors.rules import SEVERITIES, severity_rank
from analytics.detectors.tracker import Signal
from analytics.monitor.feed import Batch
from analytics.monitor.findings import Finding, fault_finding
from analytics.monitor.modelstore import TrainedModel


def test_severity_has_the_engines_order_and_ranks() -> None:
    assert tuple(Severity) == SEVERITIES
    assert [severity_rank(s) for s in Severity] == [0, 1, 2, 3]
    assert Severity.of_rank(2) is Severity.MAJOR
    assert f"{Severity.MAJOR}" == "major"


def test_alert_state_words_are_enum_members() -> None:
    assert alert_state(True, False, False) is AlertState.ACTIVE_UNACKNOWLEDGED
    assert alert_state(False, True, False) is AlertState.CLEARED_ACKNOWLEDGED
    assert alert_state(True, True, True) is AlertState.CLOSED
    assert {
        alert_state(a, k, c) for a in (False, True) for k in (False, True) for c in (False, True)
    } == set(AlertState)


def test_alert_filter_takes_enum_values_and_rejects_others() -> None:
    assert AlertFilter(state=StateFilter.OPEN, severity="critical").severity == Severity.CRITICAL
    with pytest.raises(ValueError, match="unknown state filter 'opened'"):
        AlertFilter(state="opened")
    with pytest.raises(ValueError, match="unknown severity 'fatal'"):
        AlertFilter(severity="fatal")


@pytest.mark.parametrize("record", [Finding, Signal, Batch, TrainedModel, AlertFilter])
def test_records_of_more_than_four_fields_are_keyword_only(record: type) -> None:
    fields = dataclasses.fields(record)
    assert len(fields) > 4
    assert all(f.kw_only for f in fields)


def test_fault_finding_is_built_by_keyword() -> None:
    ev = {"code": "E7", "t": 100.0, "type": "fault_code", "severity": "minor", "attrs": None}
    f = fault_finding(ev)
    assert f is not None
    assert (f.rule, f.severity, f.signal.severity, f.signal.first_ts) == (
        "fault:E7",
        Severity.WARNING,
        1,
        100.0,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.rule = "other"  # type: ignore[misc]
