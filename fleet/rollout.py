"""The rollout gate of a campaign: a pure function of the plan and the counts so far.

Stage 0 is the canary (N devices); stage k >= 1 brings the share of the target updated up to
waves[k-1] percent. A stage may start only when the one before finished with at least the
success percentage; the campaign aborts once at least `min_finished` devices finished and
the failed share reached the abort threshold. At most `rate_per_min` devices start a minute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo


class Action(StrEnum):
    """What the campaign does next."""

    START = "start"  # start `start` more devices of the current stage (may be 0: wait)
    ADVANCE = "advance"  # the stage passed its gate: move to the next one
    HOLD = "hold"  # the stage finished below its success percentage: wait for an operator
    ABORT = "abort"
    DONE = "done"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A campaign's stages and gates."""

    canary: int
    waves: tuple[int, ...]
    success_pct: float
    abort_failure_pct: float
    min_finished: int
    rate_per_min: int

    def __post_init__(self) -> None:
        if self.canary < 1 or self.min_finished < 1 or self.rate_per_min < 1:
            raise ValueError("canary, min_finished and rate_per_min must be at least 1")
        if not self.waves or list(self.waves) != sorted(set(self.waves)) or self.waves[-1] != 100:
            raise ValueError("waves are increasing cumulative percentages ending at 100")
        if self.waves[0] <= 0:
            raise ValueError("waves must be positive percentages")
        for pct in (self.success_pct, self.abort_failure_pct):
            if not 0 <= pct <= 100:
                raise ValueError("percentages are 0..100")

    def stage_sizes(self, target: int) -> list[int]:
        """How many devices each stage holds (canary first), summing to the target."""
        canary = min(self.canary, target)
        ends = [max(canary, math.ceil(target * pct / 100)) for pct in self.waves]
        sizes, done = [canary], canary
        for end in ends:
            sizes.append(end - done)
            done = end
        return sizes


@dataclass(frozen=True, kw_only=True)
class Progress:
    """Counts of the campaign at one moment."""

    stage: int
    stage_assigned: int  # devices of the current stage
    stage_started: int  # of those, started (in progress or finished)
    stage_succeeded: int
    stage_failed: int
    finished: int  # every stage so far
    failed: int
    started_last_minute: int
    last_stage: int


@dataclass(frozen=True, slots=True)
class Decision:
    """The gate's answer."""

    action: Action
    start: int = 0
    reason: str = ""


def decide(plan: Plan, p: Progress) -> Decision:
    """The next step of a running campaign."""
    if p.finished >= plan.min_finished and 100 * p.failed / p.finished >= plan.abort_failure_pct:
        why = f"{p.failed} of {p.finished} finished devices failed"
        return Decision(Action.ABORT, reason=f"{why} (threshold {plan.abort_failure_pct:g}%)")
    stage_finished = p.stage_succeeded + p.stage_failed
    if stage_finished < p.stage_assigned:
        room = max(plan.rate_per_min - p.started_last_minute, 0)
        return Decision(Action.START, min(room, p.stage_assigned - p.stage_started))
    rate = 100 * p.stage_succeeded / stage_finished if stage_finished else 100.0
    if rate < plan.success_pct:
        why = f"stage {p.stage}: {rate:.0f}% succeeded, below {plan.success_pct:g}%"
        return Decision(Action.HOLD, reason=why)
    if p.stage >= p.last_stage:
        return Decision(Action.DONE, reason=f"all stages done ({p.failed} failed)")
    return Decision(Action.ADVANCE, reason=f"stage {p.stage}: {rate:.0f}% succeeded")


def in_window(now: datetime, zone: str, start: time | None, end: time | None) -> bool:
    """Whether `now` falls in a daily [start, end) window in a time zone (None: always).

    A window that ends before it starts wraps past midnight (22:00-04:00).
    """
    if start is None or end is None:
        return True
    local = now.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    if start <= end:
        return start <= local < end
    return local >= start or local < end
