"""Fairness: when many volunteers are eligible, the work spreads across all of them instead of
always going to the nearest, because each offer in the last week counts as extra distance.

Scoring is a pure function of what the matching query finds (dispatch.scoring), so this runs
the choice of 1,000 requests in memory: no app, no database."""

from __future__ import annotations

import csv
from collections import Counter
from importlib import resources

from dispatch import scoring
from dispatch.scoring import Facts, distance_km, score

DISTRICTS = ("KT1", "KT2", "KT3", "KT5", "KT6")
PER_DISTRICT = 4
REQUESTS = 1000
REQUESTER_DISTRICT = "KT1"


def centroids() -> dict[str, tuple[float, float]]:
    """The shipped directory's district centroids (where volunteers and requests are placed)."""
    with resources.files("dispatch").joinpath("data/postcode_districts.csv").open() as shipped:
        rows = csv.DictReader(shipped)
        return {row["district"]: (float(row["latitude"]), float(row["longitude"])) for row in rows}


def test_work_spreads_across_every_eligible_volunteer() -> None:
    """1,000 requests from KT1 to 20 volunteers 0-3 km away, each accepted and done at once (no
    task stays in hand): everyone gets work, and the counts stay within the spread the scoring
    allows (distance is paid back at KM_PER_RECENT_OFFER per offer)."""
    places = centroids()
    here = places[REQUESTER_DISTRICT]
    # (registration order, km from the request): ties go to whoever registered first, as in SQL.
    volunteers = [
        (order, distance_km(here, places[district]))
        for order, district in enumerate(d for d in DISTRICTS for _ in range(PER_DISTRICT))
    ]
    offers: Counter[int] = Counter()
    for _ in range(REQUESTS):
        facts = {
            order: Facts(
                distance_km=km,
                active_tasks=0,
                max_active_tasks=3,
                recent_offers=offers[order],
                covers_district=False,
                helped_before=False,
            )
            for order, km in volunteers
        }
        chosen = min(facts, key=lambda order: (score(facts[order]), order))
        offers[chosen] += 1

    loads = [offers[order] for order, _ in volunteers]
    least, most = min(loads), max(loads)
    observed = f"min {least}, max {most} tasks per volunteer over {REQUESTS} requests"
    assert sum(loads) == REQUESTS, observed
    assert least > 0, f"someone was starved: {observed}"
    # A score is distance + KM_PER_RECENT_OFFER * offers this week, and each request goes to the
    # lowest: scores never spread by more than max(farthest, penalty), so counts differ by at most
    # (that + farthest) / penalty.
    farthest = max(km for _, km in volunteers)
    penalty = scoring.KM_PER_RECENT_OFFER
    allowed = int((max(farthest, penalty) + farthest) // penalty)
    assert most - least <= allowed, f"work is uneven beyond {allowed}: {observed}"
    assert most <= 3 * least, observed


def test_a_task_in_hand_and_continuity_move_a_volunteer_down_and_up() -> None:
    near = Facts(
        2.0, active_tasks=0, max_active_tasks=3, recent_offers=0, covers_district=False, helped_before=False
    )
    busy = Facts(
        2.0, active_tasks=1, max_active_tasks=3, recent_offers=0, covers_district=False, helped_before=False
    )
    known = Facts(
        9.0, active_tasks=0, max_active_tasks=3, recent_offers=0, covers_district=False, helped_before=True
    )
    assert score(busy) == score(near) + scoring.KM_PER_TASK_IN_HAND
    assert score(known) == 9.0 - scoring.KM_FOR_CONTINUITY < score(near)
    unplaced = Facts(
        None, active_tasks=0, max_active_tasks=3, recent_offers=0, covers_district=True, helped_before=False
    )
    assert score(unplaced) == scoring.MAX_REACH_KM  # covers the district, place unknown: ranked last
