"""Fairness: when many volunteers are eligible, the work spreads across all of them instead of
always going to the nearest, because each offer in the last week counts as extra distance."""

from __future__ import annotations

import uuid
from collections import Counter

from flask import Flask
from sqlalchemy import select

from dispatch import matching
from dispatch.models import Offer
from dispatch.service import accept_offer, complete_task, receive_request
from hub_shared.events import new_event
from tests.support.events import request_submitted_payload
from tests.unit.conftest import hub_of
from tests.unit.dispatch.helpers import links_for, volunteer

DISTRICTS = ("KT1", "KT2", "KT3", "KT5", "KT6")
PER_DISTRICT = 4
REQUESTS = 1000
REQUESTER_DISTRICT = "KT1"  # request_submitted_payload's postcode, KT1 2AB


def help_once(app: Flask) -> str:
    """A shopping request from KT1 arrives; whoever is offered it accepts and completes it at
    once. Returns who did it."""
    hub, links = hub_of(app), links_for(app)
    event = new_event("request.submitted", request_submitted_payload(), request_id=str(uuid.uuid4()))
    with hub.db.transaction() as session:
        receive_request(session, hub.bus, links, event)
        offer = session.scalar(select(Offer).where(Offer.request_id == event.request_id))
        assert offer is not None, "nobody was offered the request"
        offer_id, volunteer_id = offer.id, offer.volunteer_id
    with hub.db.transaction() as session:
        accept_offer(session, hub.bus, links, offer_id)
    with hub.db.transaction() as session:
        complete_task(session, hub.bus, offer_id)
    return volunteer_id


def farthest_km(app: Flask) -> float:
    """How far the farthest volunteer's district is from the requester's."""
    with hub_of(app).db.sessions() as session:
        here = matching.locate(session, REQUESTER_DISTRICT)
        homes = [matching.locate(session, district) for district in DISTRICTS]
    return max(matching.distance_km(here, home) for home in homes)  # type: ignore[arg-type]


def test_work_spreads_across_every_eligible_volunteer(dispatch_app: Flask) -> None:
    """1,000 requests from KT1 to 20 volunteers 0-3 km away: everyone gets work, and the counts stay
    within the spread the scoring allows (distance is paid back at KM_PER_RECENT_OFFER per offer)."""
    everyone = [
        volunteer(dispatch_app, postcode=f"{district} {n}AA", max_distance_km=10)
        for district in DISTRICTS
        for n in range(1, PER_DISTRICT + 1)
    ]
    done = Counter(help_once(dispatch_app) for _ in range(REQUESTS))

    loads = {volunteer_id: done[volunteer_id] for volunteer_id in everyone}
    least, most = min(loads.values()), max(loads.values())
    observed = f"min {least}, max {most} tasks per volunteer over {REQUESTS} requests"
    assert sum(loads.values()) == REQUESTS, observed
    assert least > 0, f"someone was starved: {observed}"
    # A score is distance + KM_PER_RECENT_OFFER * offers this week, and each request goes to the
    # lowest: scores never spread by more than max(farthest, penalty), so counts differ by at most
    # (that + farthest) / penalty.
    farthest, penalty = farthest_km(dispatch_app), matching.KM_PER_RECENT_OFFER
    allowed = int((max(farthest, penalty) + farthest) // penalty)
    assert most - least <= allowed, f"work is uneven beyond {allowed}: {observed}"
    assert most <= 3 * least, observed
