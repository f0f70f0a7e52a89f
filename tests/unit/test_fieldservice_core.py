"""Field-service pure cores: state machine, business calendar, SLA clocks, suggestions."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from fieldservice.sla import ClockName, Step, clocks, deadlines, pauses
from fieldservice.states import OPEN, HoldReason, Move, State, TransitionError, check
from fieldservice.suggest import Candidate, Need, haversine_km, rank
from fieldservice.workcalendar import BusinessCalendar

SH = ZoneInfo("Asia/Shanghai")
# The docs/billing.md example: Friday 2026-06-19 a holiday, Sunday 2026-06-28 a make-up day.
CAL = BusinessCalendar(
    holidays=frozenset({date(2026, 6, 19)}), workdays=frozenset({date(2026, 6, 28)})
)


def sh(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def test_happy_path_is_allowed_step_by_step() -> None:
    path = [State.QUALIFIED, State.ASSIGNED, State.ACCEPTED, State.EN_ROUTE, State.IN_PROGRESS]
    path += [State.COMPLETED, State.CLOSED]
    current = State.NEW
    for to in path:
        check(current, Move(to=to, technician_id="t1"))
        current = to
    assert current not in OPEN


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (State.NEW, State.COMPLETED),
        (State.CLOSED, State.NEW),
        (State.COMPLETED, State.CANCELED),
        (State.EN_ROUTE, State.ASSIGNED),
        (State.CANCELED, State.QUALIFIED),
    ],
)
def test_transitions_not_in_the_machine_are_refused(current: State, to: State) -> None:
    with pytest.raises(TransitionError, match="cannot go from"):
        check(current, Move(to=to, reason="x", technician_id="t"))


def test_hold_incomplete_cancel_need_reasons_and_assign_needs_a_technician() -> None:
    with pytest.raises(TransitionError, match="needs a reason"):
        check(State.IN_PROGRESS, Move(to=State.ON_HOLD, hold=HoldReason.AWAITING_PARTS))
    with pytest.raises(TransitionError, match="awaiting_parts or awaiting_customer"):
        check(State.IN_PROGRESS, Move(to=State.ON_HOLD, reason="waiting"))
    with pytest.raises(TransitionError, match="needs a reason"):
        check(State.IN_PROGRESS, Move(to=State.INCOMPLETE, reason="  "))
    with pytest.raises(TransitionError, match="needs a reason"):
        check(State.NEW, Move(to=State.CANCELED))
    with pytest.raises(TransitionError, match="technician_id"):
        check(State.QUALIFIED, Move(to=State.ASSIGNED))
    with pytest.raises(TransitionError, match="scheduled_for"):
        check(State.QUALIFIED, Move(to=State.SCHEDULED))
    check(State.ON_HOLD, Move(to=State.IN_PROGRESS))


def test_calendar_skips_weekend_and_holiday_and_counts_make_up_sunday() -> None:
    assert not CAL.is_working_day(date(2026, 6, 19))  # holiday Friday
    assert not CAL.is_working_day(date(2026, 6, 20))  # Saturday
    assert CAL.is_working_day(date(2026, 6, 28))  # make-up Sunday
    # Thursday 16:00 + 4 business hours: 2 h on Thursday, then Monday 09:00 + 2 h.
    assert CAL.add(sh(18, 16), 240) == sh(22, 11)
    assert CAL.minutes(sh(18, 16), sh(22, 11)) == 240
    # Saturday 27th is a normal weekend day; the make-up Sunday 28th counts 9 hours.
    assert CAL.minutes(sh(26, 18), sh(29, 9)) == 9 * 60
    assert CAL.minutes(sh(22, 11), sh(18, 16)) == -240


def test_calendar_with_round_the_clock_hours_and_bad_settings() -> None:
    always = BusinessCalendar(start=time(0), end=time(0), weekdays=frozenset(range(7)))
    assert always.add(sh(20, 23), 120) == sh(21, 1)
    with pytest.raises(ValueError, match="end after"):
        BusinessCalendar(start=time(18), end=time(9))
    with pytest.raises(ValueError, match="both a holiday"):
        BusinessCalendar(
            holidays=frozenset({date(2026, 1, 1)}), workdays=frozenset({date(2026, 1, 1)})
        )


def test_deadlines_across_a_weekend_and_a_holiday() -> None:
    d = deadlines(CAL, sh(18, 16), 240, 960)
    assert d.response_due == sh(22, 11)
    # 2 h Thursday + 9 h Monday + 5 h Tuesday
    assert d.resolution_due == sh(23, 14)


def _history() -> list[Step]:
    return [
        Step(at=sh(18, 16), to=State.NEW),
        Step(at=sh(22, 9), to=State.ASSIGNED),
        Step(at=sh(22, 14, 30), to=State.ACCEPTED),
        Step(at=sh(22, 15), to=State.IN_PROGRESS),
        Step(at=sh(22, 16), to=State.ON_HOLD, hold=HoldReason.AWAITING_CUSTOMER),
        Step(at=sh(23, 10), to=State.IN_PROGRESS),
        Step(at=sh(23, 17, 30), to=State.COMPLETED),
    ]


def test_clocks_record_breach_sizes_with_the_customer_pause_left_out() -> None:
    d = deadlines(CAL, sh(18, 16), 240, 960)
    response, resolution = clocks(CAL, d, _history(), now=sh(30, 9))
    assert response.name is ClockName.RESPONSE and response.stopped_at == sh(22, 14, 30)
    assert response.breach_minutes == 210  # 11:00 -> 14:30 Monday
    assert resolution.paused_minutes == 180  # Monday 16-18 + Tuesday 9-10
    assert resolution.breach_minutes == 30  # 14:00 -> 17:30 Tuesday = 210, minus 180 paused


def test_waiting_for_parts_does_not_pause_and_a_running_clock_counts_to_now() -> None:
    hist = _history()
    hist[4] = Step(at=sh(22, 16), to=State.ON_HOLD, hold=HoldReason.AWAITING_PARTS)
    d = deadlines(CAL, sh(18, 16), 240, 960)
    assert clocks(CAL, d, hist, now=sh(30, 9))[1].breach_minutes == 210
    running = clocks(CAL, d, hist[:5], now=sh(24, 9, 30))[1]
    assert running.stopped_at is None and running.breach_minutes == 270  # Tue 14-18 + Wed 9:00-9:30
    assert pauses(
        [*hist[:4], Step(at=sh(22, 16), to=State.ON_HOLD, hold=HoldReason.AWAITING_CUSTOMER)]
    ) == [(sh(22, 16), None)]


def test_suggestion_prefers_skill_coverage_low_load_and_proximity() -> None:
    need = Need(
        skills=frozenset({"substation-robot"}), site_id="s1", latitude=31.23, longitude=121.47
    )
    near = Candidate(
        id="near",
        skills=frozenset({"substation-robot"}),
        sites=frozenset({"s1"}),
        open_orders=0,
        latitude=31.3,
        longitude=121.5,
    )
    busy = Candidate(
        id="busy",
        skills=frozenset({"substation-robot"}),
        sites=frozenset({"s1"}),
        open_orders=6,
        latitude=31.3,
        longitude=121.5,
    )
    unskilled = Candidate(
        id="unskilled",
        skills=frozenset(),
        sites=frozenset({"s1"}),
        open_orders=0,
        latitude=31.23,
        longitude=121.47,
    )
    off = Candidate(
        id="off",
        skills=frozenset({"substation-robot"}),
        sites=frozenset(),
        open_orders=0,
        active=False,
    )
    ranked = rank([unskilled, busy, near, off], need)
    assert [s.technician_id for s in ranked] == ["near", "busy", "unskilled"]
    assert ranked[0].coverage == 25 and ranked[0].skill == 40
    assert ranked[0].distance_km is not None and 5 < ranked[0].distance_km < 12


def test_haversine_shanghai_to_beijing() -> None:
    assert 1060 < haversine_km(31.23, 121.47, 39.90, 116.40) < 1075


def test_monthly_figures_mtta_mttr_and_compliance() -> None:
    from fieldservice.stats import OrderFacts, summarize

    t0 = sh(1, 9)
    orders = [
        OrderFacts(
            state="closed",
            created_at=t0,
            accepted_at=sh(1, 10),
            completed_at=sh(1, 13),
            response_breach=0,
            resolution_breach=0,
        ),
        OrderFacts(
            state="completed",
            created_at=t0,
            accepted_at=sh(1, 12),
            completed_at=sh(2, 9),
            response_breach=30,
            resolution_breach=0,
        ),
        OrderFacts(state="assigned", created_at=t0),
        OrderFacts(state="canceled", created_at=t0),
    ]
    s = summarize(orders)
    assert (s.created, s.completed, s.open, s.canceled) == (4, 2, 1, 1)
    assert s.mtta_minutes == 120  # (60 + 180) / 2
    assert s.mttr_minutes == (240 + 1440) / 2
    assert (s.response_compliance, s.resolution_compliance) == (50, 100)
    assert (s.response_breaches, s.resolution_breaches) == (1, 0)
    assert summarize([]).mtta_minutes is None


def test_preventive_due_dates_clamp_month_ends_and_stop_at_contract_end() -> None:
    from fieldservice.preventive import add_months, due_dates

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    quarterly = due_dates(date(2026, 1, 15), 3, date(2026, 12, 31), None)
    assert quarterly == [
        date(2026, 1, 15),
        date(2026, 4, 15),
        date(2026, 7, 15),
        date(2026, 10, 15),
    ]
    assert due_dates(date(2026, 1, 15), 3, date(2026, 12, 31), date(2026, 7, 15)) == [
        date(2026, 1, 15),
        date(2026, 4, 15),
    ]


def test_missed_preventive_visits_are_not_generated_afterwards() -> None:
    from fieldservice.preventive import due_dates

    # a schedule left since 2020: only the visits from today on (none from years of backlog)
    got = due_dates(date(2020, 1, 15), 1, date(2026, 8, 1), None, today=date(2026, 6, 22))
    assert got == [date(2026, 7, 15)]
