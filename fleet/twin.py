"""Pure twin rules: merge a desired patch, compute the delta, judge version preconditions."""

from __future__ import annotations

from typing import Any

MAX_TWIN_KEYS = 100


class VersionConflict(ValueError):
    """The caller's version is not the current one (stale If-Match or a stale report)."""


def merge(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A JSON merge patch on one level: a null value removes the key."""
    merged = {k: v for k, v in {**document, **patch}.items() if v is not None}
    if len(merged) > MAX_TWIN_KEYS:
        raise ValueError(f"a twin document holds at most {MAX_TWIN_KEYS} keys")
    return merged


def delta(desired: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    """Desired settings the device has not reported yet."""
    return {k: v for k, v in desired.items() if reported.get(k) != v}


def check_if_match(current: int, if_match: int | None) -> None:
    """Refuse a desired update based on an older version (None: unconditional)."""
    if if_match is not None and if_match != current:
        raise VersionConflict(f"twin is at version {current}, not {if_match}")


def check_report(desired_version: int, reported_version: int, version: int) -> None:
    """A device report must be for a version between the last reported and the desired."""
    if version < reported_version:
        raise VersionConflict(f"stale report {version}: version {reported_version} is reported")
    if version > desired_version:
        raise VersionConflict(f"report {version} is ahead of desired version {desired_version}")
