"""How the volunteers who pass every hard rule are ordered: a pure function of the facts the
matching query finds about each (dispatch.matching), so it is tested without a database.

A score is a distance in kilometres, lowest first: how far the volunteer lives from the
request, plus a penalty for each task in hand and for each offer in the last week, so work
spreads across everyone eligible instead of always going to the nearest; minus a bonus for
whoever helped this person before (when both agreed to it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_REACH_KM = 25.0  # the most anyone may set as max_distance_km; bounds the search box
KM_PER_TASK_IN_HAND = 3.0  # fairness: a task in hand counts as this much further away
KM_PER_RECENT_OFFER = 2.0  # ... and so does each offer made to them in the last week
KM_FOR_CONTINUITY = 10.0  # who helped this person before (both agreeing) counts as this much nearer
KM_PER_DEGREE_LATITUDE = 110.574


def km_per_degree_longitude(latitude: float) -> float:
    return 111.320 * math.cos(math.radians(latitude))


def distance_km(origin: tuple[float, float], point: tuple[float, float]) -> float:
    """Distance from a request (origin) to a point, both (latitude, longitude): equirectangular
    with the longitude scale at the origin, exactly as the SQL measures reach (fine within 25 km)."""
    dy = (point[0] - origin[0]) * KM_PER_DEGREE_LATITUDE
    dx = (point[1] - origin[1]) * km_per_degree_longitude(origin[0])
    return math.hypot(dx, dy)


@dataclass(frozen=True)
class Facts:
    """What the matching query found about one eligible volunteer, for this request."""

    distance_km: float | None  # None: one of them has no known place (they cover the district)
    active_tasks: int
    max_active_tasks: int
    recent_offers: int  # offers made to them in the last week
    covers_district: bool
    helped_before: bool  # completed a task for this person before, both agreeing to continuity


def score(facts: Facts) -> float:
    km = facts.distance_km if facts.distance_km is not None else MAX_REACH_KM
    penalty = KM_PER_TASK_IN_HAND * facts.active_tasks + KM_PER_RECENT_OFFER * facts.recent_offers
    return km + penalty - (KM_FOR_CONTINUITY if facts.helped_before else 0.0)


def reasons(facts: Facts, *, skill: str | None, district: str, dbs_checked: bool) -> list[str]:
    """Why the volunteer is where they are in the ranking, as a coordinator reads it."""
    km = facts.distance_km
    why = [
        f"has the {skill} skill",
        f"{km:.1f} km from home" if km is not None else f"covers {district}",
        f"{facts.active_tasks} task(s) in hand of {facts.max_active_tasks}",
        f"{facts.recent_offers} offer(s) in the last week",
    ]
    if facts.covers_district:
        why.append(f"covers {district}")
    if dbs_checked:
        why.append("DBS check valid")
    if facts.helped_before:
        why.append("helped this person before (both agreed to it)")
    return why
