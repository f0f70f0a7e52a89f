"""Technician suggestion (pure): skill, coverage, open load and distance, with the reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0
# Points per criterion; a missing skill is not a zero score but a strong penalty.
W_SKILL, W_COVERAGE, W_LOAD, W_DISTANCE = 40.0, 25.0, 20.0, 15.0
# Distance at which the distance score halves, and open work orders at which load halves.
HALF_KM, HALF_LOAD = 50.0, 2.0


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """What the suggestion knows about a technician."""

    id: str
    skills: frozenset[str]
    sites: frozenset[str]
    open_orders: int
    latitude: float | None = None
    longitude: float | None = None
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class Need:
    """What the work order asks for."""

    skills: frozenset[str]
    site_id: str | None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    """A scored technician with each criterion's points and the distance."""

    technician_id: str
    score: float
    skill: float
    coverage: float
    load: float
    distance: float
    distance_km: float | None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _distance_km(c: Candidate, need: Need) -> float | None:
    if None in (c.latitude, c.longitude, need.latitude, need.longitude):
        return None
    assert c.latitude is not None and c.longitude is not None
    assert need.latitude is not None and need.longitude is not None
    return haversine_km(c.latitude, c.longitude, need.latitude, need.longitude)


def score(c: Candidate, need: Need) -> Suggestion:
    """Points out of 100 for one technician."""
    skill = W_SKILL * (len(c.skills & need.skills) / len(need.skills) if need.skills else 1.0)
    coverage = W_COVERAGE if need.site_id is not None and need.site_id in c.sites else 0.0
    load = W_LOAD * HALF_LOAD / (HALF_LOAD + max(c.open_orders, 0))
    km = _distance_km(c, need)
    distance = 0.0 if km is None else W_DISTANCE * HALF_KM / (HALF_KM + km)
    return Suggestion(
        technician_id=c.id,
        score=round(skill + coverage + load + distance, 3),
        skill=round(skill, 3),
        coverage=coverage,
        load=round(load, 3),
        distance=round(distance, 3),
        distance_km=None if km is None else round(km, 1),
    )


def rank(candidates: list[Candidate], need: Need, limit: int = 5) -> list[Suggestion]:
    """Active technicians, best first (ties by id)."""
    scored = [score(c, need) for c in candidates if c.active]
    return sorted(scored, key=lambda s: (-s.score, s.technician_id))[:limit]
