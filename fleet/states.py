"""Pure state machines of commands and per-device updates: which transitions are allowed."""

from __future__ import annotations

from enum import StrEnum


class CommandState(StrEnum):
    """Where one command execution stands."""

    QUEUED = "QUEUED"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"

    @property
    def terminal(self) -> bool:
        """Whether nothing can follow."""
        return not COMMAND_TRANSITIONS[self]


_RESULTS = {CommandState.SUCCEEDED, CommandState.FAILED, CommandState.REJECTED}
C = CommandState
# SENT -> SENT is a resend (a retry of the same command id); a result may arrive before the
# receipt (the receipt lost), which still proves delivery. Once DELIVERED the device may be
# running the command: it can no longer expire or be canceled.
COMMAND_TRANSITIONS: dict[CommandState, frozenset[CommandState]] = {
    C.QUEUED: frozenset({C.SENT, C.EXPIRED, C.CANCELED}),
    C.SENT: frozenset({C.SENT, C.DELIVERED, C.TIMED_OUT, C.EXPIRED, C.CANCELED, *_RESULTS}),
    C.DELIVERED: frozenset({C.TIMED_OUT, *_RESULTS}),
    **{s: frozenset() for s in (*_RESULTS, C.TIMED_OUT, C.EXPIRED, C.CANCELED)},
}


class TransitionError(ValueError):
    """A state change the machine does not allow."""


def check_command(old: CommandState, new: CommandState) -> CommandState:
    """The new state, or TransitionError when old -> new is not allowed."""
    if new not in COMMAND_TRANSITIONS[old]:
        raise TransitionError(f"command cannot go from {old} to {new}")
    return new


def retry_delay_s(attempt: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait for a receipt after send number `attempt` (1-based): doubling, capped."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    return float(min(cap_s, base_s * 2 ** min(attempt - 1, 30)))


class UpdateState(StrEnum):
    """Where one device stands in a firmware update."""

    QUEUED = "QUEUED"
    NOTIFIED = "NOTIFIED"
    DOWNLOADING = "DOWNLOADING"
    DOWNLOADED = "DOWNLOADED"
    VERIFIED = "VERIFIED"
    INSTALLING = "INSTALLING"
    REBOOTING = "REBOOTING"
    UPDATED = "UPDATED"
    FAILED = "FAILED"
    ROLLED_BACK = "ROLLED_BACK"
    CANCELED = "CANCELED"

    @property
    def finished(self) -> bool:
        """Whether the device's update is over (success or not)."""
        return self in _UPDATE_DONE

    @property
    def in_progress(self) -> bool:
        """Whether the device is working on it (a silent device here times out)."""
        return not self.finished and self is not UpdateState.QUEUED


U = UpdateState
_UPDATE_DONE = frozenset({U.UPDATED, U.FAILED, U.ROLLED_BACK, U.CANCELED})
_ORDER = (U.QUEUED, U.NOTIFIED, U.DOWNLOADING, U.DOWNLOADED, U.VERIFIED, U.INSTALLING, U.REBOOTING)


def check_update(old: UpdateState, new: UpdateState) -> UpdateState:
    """Updates move forward only (DOWNLOADING may repeat for progress); any step may fail.

    UPDATED is reached only from REBOOTING: the version reported after the reboot decides it,
    so a power loss mid-install can never read as "updated".
    """
    ok = (
        (old is U.DOWNLOADING and new is U.DOWNLOADING)
        or (not old.finished and new in (U.FAILED, U.ROLLED_BACK, U.CANCELED))
        or (old is U.REBOOTING and new is U.UPDATED)
        or (old in _ORDER and new in _ORDER and _ORDER.index(new) > _ORDER.index(old))
    )
    if not ok:
        raise TransitionError(f"update cannot go from {old} to {new}")
    return new
