"""dispatch matches each request to volunteers: hard rules first (skill, DBS check, never the same
volunteer twice), then nearest and least busy; it offers, takes answers, expires and escalates.

These tests route with no partner groups (VOLUNTEERS_ONLY), so a request no volunteer can take
goes straight to the coordinators; test_referrals.py covers partners."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from dispatch.bootstrap import handlers as dispatch_handlers
from dispatch.flows import decline_offer, expire_offers, release_task
from dispatch.jobs.service import receive_request
from dispatch.matching import LONDON, rank_candidates
from dispatch.models import Job, Offer, Volunteer
from dispatch.offers.service import accept_offer, complete_task
from dispatch.policy import Policy
from dispatch.routing import SHIPPED_ROUTING
from dispatch.urls import TASK_LINK
from dispatch.volunteers.service import upsert_volunteer
from hub_shared.errors import Conflict
from hub_shared.events import new_event
from tests.support.events import request_submitted_payload
from tests.unit.conftest import client_as, hub_of, outbox
from tests.unit.dispatch.helpers import deps_for, volunteer

VOLUNTEERS_ONLY = Policy(routing=replace(SHIPPED_ROUTING, partners={}))


def request(app: Flask, **overrides: Any) -> str:
    """intake's request.submitted arrives; dispatch records a job and matches it. Returns its id."""
    payload = request_submitted_payload(**overrides)
    event = new_event("request.submitted", payload, request_id=str(uuid.uuid4()))
    hub = hub_of(app)
    with hub.db.transaction() as session:
        receive_request(session, deps_for(app, VOLUNTEERS_ONLY), event)
    assert event.request_id is not None
    return event.request_id


def offers(app: Flask, request_id: str) -> list[Offer]:
    with hub_of(app).db.sessions() as session:
        return list(
            session.scalars(select(Offer).where(Offer.request_id == request_id).order_by(Offer.created_at))
        )


def current_offer(app: Flask, request_id: str) -> Offer:
    [offer] = [o for o in offers(app, request_id) if o.status == "offered"]
    return offer


def job_status(app: Flask, request_id: str) -> str:
    with hub_of(app).db.sessions() as session:
        job = session.get(Job, request_id)
        assert job is not None
        return job.status


def events_for(app: Flask, request_id: str) -> list[dict[str, Any]]:
    return [e for e in outbox(app) if e["request_id"] == request_id]


def types_for(app: Flask, request_id: str) -> list[str]:
    return [e["type"] for e in events_for(app, request_id)]


def answer(app: Flask, action: Any, offer_id: str, policy: Policy | None = None, **options: Any) -> Offer:
    hub = hub_of(app)
    with hub.db.transaction() as session:
        return action(session, deps_for(app, policy), offer_id, **options)


def ranked(app: Flask, request_id: str) -> list[str]:
    hub = hub_of(app)
    with hub.db.sessions() as session:
        job = session.get(Job, request_id)
        assert job is not None
        return [
            c.volunteer.id for c in rank_candidates(session, job, datetime.now(UTC), routing=SHIPPED_ROUTING)
        ]


def expire_now(app: Flask, offer_id: str) -> None:
    with hub_of(app).db.transaction() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Offer).where(Offer.id == offer_id).values(expires_at=past))


# -- registering volunteers ---------------------------------------------------------------------


def test_registering_a_volunteer(dispatch_app: Flask) -> None:
    client = client_as(dispatch_app)
    body = {"name": "Asha", "email": "asha@example.org", "postcode": "kt1 1eu", "skills": ["driving"]}
    response = client.post("/api/v1/volunteers", json=body)
    assert response.status_code == 201
    created = response.get_json()
    assert created["postcode"] == "KT1 1EU" and created["skills"] == ["driving"]
    assert created["dbs_checked"] is False
    again = client.post("/api/v1/volunteers", json=body | {"name": "Someone else"})
    assert again.status_code == 409
    assert "already registered" in again.get_json()["message"]
    unknown_skill = client.post(
        "/api/v1/volunteers", json=body | {"email": "b@example.org", "skills": ["juggling"]}
    )
    assert unknown_skill.status_code == 422
    assert "skills" in unknown_skill.get_json()["errors"]["json"]
    assert [v["email"] for v in client.get("/api/v1/volunteers").get_json()] == ["asha@example.org"]


# -- hard rules ---------------------------------------------------------------------------------


def test_only_a_volunteer_with_the_skill_is_offered(dispatch_app: Flask) -> None:
    volunteer(dispatch_app, skills=["dog_walking"])  # same district, wrong skill
    driver = volunteer(dispatch_app, skills=["driving", "dog_walking"], postcode="KT2 6AA")
    request_id = request(dispatch_app, need="transport")
    assert [o.volunteer_id for o in offers(dispatch_app, request_id)] == [driver]
    [ranking] = [e for e in events_for(dispatch_app, request_id) if e["type"] == "match.ranked"]
    assert [c["volunteer_id"] for c in ranking["payload"]["candidates"]] == [driver]


def test_befriending_needs_a_dbs_checked_volunteer(dispatch_app: Flask) -> None:
    volunteer(dispatch_app, skills=["befriending"], dbs_checked=False)  # nearer, not checked
    checked = volunteer(dispatch_app, skills=["befriending"], dbs_checked=True, postcode="KT3 1AA")
    request_id = request(dispatch_app, need="befriending")
    assert [o.volunteer_id for o in offers(dispatch_app, request_id)] == [checked]


def test_a_vulnerable_requester_needs_a_dbs_checked_volunteer(dispatch_app: Flask) -> None:
    volunteer(dispatch_app, dbs_checked=False)
    request_id = request(dispatch_app, vulnerable=True)
    assert offers(dispatch_app, request_id) == []
    assert job_status(dispatch_app, request_id) == "escalated"
    checked = volunteer(dispatch_app, dbs_checked=True, postcode="KT5 9AA")
    assert [o.volunteer_id for o in offers(dispatch_app, request(dispatch_app, vulnerable=True))] == [checked]


def test_a_volunteer_already_asked_is_not_asked_again(dispatch_app: Flask) -> None:
    only = volunteer(dispatch_app)
    request_id = request(dispatch_app)
    assert ranked(dispatch_app, request_id) == []  # the one offered is out of the running
    answer(dispatch_app, decline_offer, current_offer(dispatch_app, request_id).id, policy=VOLUNTEERS_ONLY)
    assert [o.volunteer_id for o in offers(dispatch_app, request_id)] == [only]
    assert job_status(dispatch_app, request_id) == "escalated"
    [escalation] = [e for e in events_for(dispatch_app, request_id) if e["type"] == "request.escalated"]
    assert "no eligible volunteer" in escalation["payload"]["reason"]


@pytest.mark.parametrize(
    "changes", [{"status": "paused"}, {"status": "left"}, {"status": "applied"}, {"on_duty": False}]
)
def test_a_volunteer_who_cannot_take_work_now_is_not_offered(
    dispatch_app: Flask, changes: dict[str, Any]
) -> None:
    resting = volunteer(dispatch_app)
    response = client_as(dispatch_app).patch(f"/api/v1/volunteers/{resting}", json=changes)
    assert response.status_code == 200 and response.get_json() | changes == response.get_json()
    assert offers(dispatch_app, request(dispatch_app)) == []


def test_an_expired_dbs_check_does_not_count(dispatch_app: Flask) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    volunteer(dispatch_app, skills=["befriending"], dbs_checked=True, dbs_expires_on=yesterday)
    assert offers(dispatch_app, request(dispatch_app, need="befriending")) == []
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    valid = volunteer(dispatch_app, skills=["befriending"], dbs_checked=True, dbs_expires_on=tomorrow)
    assert [o.volunteer_id for o in offers(dispatch_app, request(dispatch_app, need="befriending"))] == [
        valid
    ]


def test_a_volunteer_at_their_task_limit_is_not_offered(dispatch_app: Flask) -> None:
    volunteer(dispatch_app, max_active_tasks=1)
    first = request(dispatch_app)
    assert len(offers(dispatch_app, first)) == 1
    assert offers(dispatch_app, request(dispatch_app)) == []  # the first offer fills their one place
    answer(dispatch_app, decline_offer, current_offer(dispatch_app, first).id)
    assert len(offers(dispatch_app, request(dispatch_app))) == 1  # the place is free again


def test_reach_is_distance_from_home_or_a_district_they_cover(dispatch_app: Flask) -> None:
    volunteer(dispatch_app, postcode="SW19 1AA")  # about 6 km from KT1: beyond their 5 km
    keen = volunteer(dispatch_app, postcode="SW19 2AA", max_distance_km=10)
    covering = volunteer(dispatch_app, postcode="SW1A 1AA", areas=["kt1"])  # home not in the directory
    request_id = request(dispatch_app)  # requester in KT1
    [ranking] = [e for e in events_for(dispatch_app, request_id) if e["type"] == "match.ranked"]
    assert {c["volunteer_id"] for c in ranking["payload"]["candidates"]} == {keen, covering}


# -- ranking ------------------------------------------------------------------------------------


def test_the_nearest_comes_first(dispatch_app: Flask) -> None:
    # Registered far-first, so the order is not just the order of registration.
    far = volunteer(dispatch_app, postcode="SW19 1AA", max_distance_km=10)
    nearby_3 = volunteer(dispatch_app, postcode="KT3 1AA")
    nearby_1 = volunteer(dispatch_app, postcode="KT2 1AA")
    same = volunteer(dispatch_app, postcode="KT1 9ZZ")
    request_id = request(dispatch_app)  # requester in KT1
    [ranking] = [e for e in events_for(dispatch_app, request_id) if e["type"] == "match.ranked"]
    candidates = ranking["payload"]["candidates"]
    assert [c["volunteer_id"] for c in candidates] == [same, nearby_1, nearby_3, far]
    assert [c["rank"] for c in candidates] == [1, 2, 3, 4]
    assert "0.0 km from home" in candidates[0]["reasons"]
    assert "6.5 km from home" in candidates[3]["reasons"]  # SW19 and KT1 centroids
    assert current_offer(dispatch_app, request_id).volunteer_id == same


def test_among_equals_the_less_busy_volunteer_comes_first(dispatch_app: Flask) -> None:
    first = volunteer(dispatch_app)
    second = volunteer(dispatch_app)
    earlier = request(dispatch_app)
    assert current_offer(dispatch_app, earlier).volunteer_id == first  # a tie: registered first
    later = request(dispatch_app)
    assert current_offer(dispatch_app, later).volunteer_id == second  # first has an offer in hand


# -- escalation ---------------------------------------------------------------------------------


def test_a_request_for_something_else_goes_to_a_coordinator(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    request_id = request(dispatch_app, need="other")
    assert offers(dispatch_app, request_id) == []
    assert types_for(dispatch_app, request_id) == ["request.escalated"]
    assert "triage" in events_for(dispatch_app, request_id)[0]["payload"]["reason"]
    assert job_status(dispatch_app, request_id) == "escalated"


def test_with_no_candidate_the_request_is_escalated(dispatch_app: Flask) -> None:
    request_id = request(dispatch_app)
    assert types_for(dispatch_app, request_id) == ["match.ranked", "request.escalated"]
    assert events_for(dispatch_app, request_id)[0]["payload"]["candidates"] == []
    assert job_status(dispatch_app, request_id) == "escalated"


def test_a_redelivered_request_is_not_matched_twice(dispatch_app: Flask) -> None:
    """Through the bus as a worker gets it (optional fields left out), then again, twice over."""
    volunteer(dispatch_app)
    message = new_event(
        "request.submitted",
        {
            "reference": "KXT-4QM",
            "need": "shopping",
            "urgency": "normal",
            "requester": {"name": "M", "postcode": "KT1 2AB", "address": "12 Example Road"},
        },
        request_id="r-again",
    ).to_message()
    hub = hub_of(dispatch_app)
    handlers = dispatch_handlers(deps_for(dispatch_app))
    outcome, event = hub.bus.consume(message, handlers)
    assert outcome == "processed" and event is not None
    assert hub.bus.consume(message, handlers)[0] == "duplicate"  # the inbox saw it
    with hub.db.transaction() as session:  # and the job itself guards a second delivery
        receive_request(session, deps_for(dispatch_app), event)
    assert len(offers(dispatch_app, "r-again")) == 1
    assert types_for(dispatch_app, "r-again") == ["match.ranked", "offer.sent"]


def test_after_max_offer_rounds_of_declines_the_request_is_escalated(dispatch_app: Flask) -> None:
    for _ in range(Policy().max_rounds + 2):
        volunteer(dispatch_app)
    request_id = request(dispatch_app)
    for _ in range(Policy().max_rounds):
        answer(
            dispatch_app, decline_offer, current_offer(dispatch_app, request_id).id, policy=VOLUNTEERS_ONLY
        )
    assert len(offers(dispatch_app, request_id)) == Policy().max_rounds
    assert all(o.status == "declined" for o in offers(dispatch_app, request_id))
    assert job_status(dispatch_app, request_id) == "escalated"
    last = events_for(dispatch_app, request_id)[-1]
    assert last["type"] == "request.escalated"
    assert f"after {Policy().max_rounds} round(s) of offers" in last["payload"]["reason"]


# -- answers ------------------------------------------------------------------------------------


def test_a_decline_moves_on_to_the_next_candidate(dispatch_app: Flask) -> None:
    best = volunteer(dispatch_app)
    next_best = volunteer(dispatch_app, postcode="KT2 1AA")
    request_id = request(dispatch_app)
    first = current_offer(dispatch_app, request_id)
    assert first.volunteer_id == best
    answer(dispatch_app, decline_offer, first.id)
    assert types_for(dispatch_app, request_id)[-3:] == ["offer.declined", "match.ranked", "offer.sent"]
    declined, sent = events_for(dispatch_app, request_id)[-3], events_for(dispatch_app, request_id)[-1]
    assert declined["payload"] == {"offer_id": first.id, "volunteer_id": best, "volunteer": None}
    assert sent["payload"]["volunteer"]["id"] == next_best
    assert current_offer(dispatch_app, request_id).volunteer_id == next_best


def test_an_offer_sent_carries_signed_links_and_no_address(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    request_id = request(dispatch_app, urgency="urgent")
    offer = current_offer(dispatch_app, request_id)
    [sent] = [e for e in events_for(dispatch_app, request_id) if e["type"] == "offer.sent"]
    payload = sent["payload"]
    assert payload["accept_url"].startswith("http://dispatch.test/offers/")
    assert payload["accept_url"].endswith("/accept") and payload["decline_url"].endswith("/decline")
    assert payload["area"] == "KT1"
    assert "12 Example Road" not in str(payload) and "Margaret" not in str(payload)
    assert offer.expires_at - offer.created_at == timedelta(minutes=30)  # urgent


def test_an_accept_publishes_the_details_and_a_complete_link(dispatch_app: Flask) -> None:
    helper = volunteer(dispatch_app)
    request_id = request(dispatch_app)
    offer = current_offer(dispatch_app, request_id)
    answer(dispatch_app, accept_offer, offer.id)
    assert [o.status for o in offers(dispatch_app, request_id)] == ["accepted"]
    assert job_status(dispatch_app, request_id) == "assigned"
    accepted = events_for(dispatch_app, request_id)[-1]
    assert accepted["type"] == "offer.accepted"
    payload = accepted["payload"]
    assert payload["volunteer"]["id"] == helper
    assert payload["requester"]["address"] == "12 Example Road"
    prefix, token, suffix = payload["complete_url"].rsplit("/", 2)
    assert (prefix, suffix) == ("http://dispatch.test/tasks", "complete")
    assert hub_of(dispatch_app).signer.verify(TASK_LINK, token, max_age_seconds=60) == offer.id


def test_a_second_accept_is_a_conflict(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    request_id = request(dispatch_app)
    offer_id = current_offer(dispatch_app, request_id).id
    answer(dispatch_app, accept_offer, offer_id)
    with pytest.raises(Conflict, match="already accepted"):
        answer(dispatch_app, accept_offer, offer_id)
    with pytest.raises(Conflict, match="already accepted"):
        answer(dispatch_app, decline_offer, offer_id)
    assert types_for(dispatch_app, request_id).count("offer.accepted") == 1


def test_an_accept_after_the_offer_expired_is_a_conflict(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    request_id = request(dispatch_app)
    offer_id = current_offer(dispatch_app, request_id).id
    expire_now(dispatch_app, offer_id)
    with pytest.raises(Conflict, match="expired"):
        answer(dispatch_app, accept_offer, offer_id)
    assert "offer.accepted" not in types_for(dispatch_app, request_id)
    assert job_status(dispatch_app, request_id) == "offered"


def test_expire_offers_closes_overdue_offers_and_asks_the_next_volunteer(dispatch_app: Flask) -> None:
    best = volunteer(dispatch_app)
    next_best = volunteer(dispatch_app, postcode="KT2 1AA")
    request_id = request(dispatch_app)
    hub = hub_of(dispatch_app)
    with hub.db.transaction() as session:
        assert expire_offers(session, deps_for(dispatch_app)) == 0  # nothing overdue yet
    expire_now(dispatch_app, current_offer(dispatch_app, request_id).id)
    with hub.db.transaction() as session:
        assert expire_offers(session, deps_for(dispatch_app)) == 1
    assert [(o.volunteer_id, o.status) for o in offers(dispatch_app, request_id)] == [
        (best, "expired"),
        (next_best, "offered"),
    ]
    assert types_for(dispatch_app, request_id)[-3:] == ["offer.expired", "match.ranked", "offer.sent"]


def test_completing_a_task(dispatch_app: Flask) -> None:
    volunteer(dispatch_app)
    request_id = request(dispatch_app)
    offer_id = current_offer(dispatch_app, request_id).id
    hub = hub_of(dispatch_app)
    with pytest.raises(Conflict), hub.db.transaction() as session:
        complete_task(session, deps_for(dispatch_app), offer_id)  # not accepted yet
    answer(dispatch_app, accept_offer, offer_id)
    with hub.db.transaction() as session:
        complete_task(session, deps_for(dispatch_app), offer_id)
    [offer] = offers(dispatch_app, request_id)
    assert offer.status == "completed" and offer.completed_at is not None
    assert job_status(dispatch_app, request_id) == "completed"
    done = events_for(dispatch_app, request_id)[-1]
    assert done["type"] == "task.completed"
    assert done["payload"]["offer_id"] == offer_id
    assert done["payload"]["volunteer"]["id"] == done["payload"]["volunteer_id"] == offer.volunteer_id
    with pytest.raises(Conflict, match="already marked as done"), hub.db.transaction() as session:
        complete_task(session, deps_for(dispatch_app), offer_id)


# -- one assignment per request, whatever the timing --------------------------------------------


def two_open_offers(app: Flask) -> tuple[str, str, str]:
    """A request with open offers to two volunteers (as a race between sweeps could leave it)."""
    volunteer(app)
    other = volunteer(app)
    request_id = request(app)
    first = current_offer(app, request_id)
    now = datetime.now(UTC)
    second_id = str(uuid.uuid4())
    with hub_of(app).db.transaction() as session:
        session.add(
            Offer(
                id=second_id,
                request_id=request_id,
                volunteer_id=other,
                status="offered",
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    return request_id, first.id, second_id


def test_the_database_refuses_two_accepted_offers_for_one_request(dispatch_app: Flask) -> None:
    _request_id, first, second = two_open_offers(dispatch_app)
    db = hub_of(dispatch_app).db
    with db.transaction() as session:
        session.execute(update(Offer).where(Offer.id == first).values(status="accepted"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.execute(update(Offer).where(Offer.id == second).values(status="accepted"))
    with db.sessions() as session:
        assert session.get(Offer, second).status == "offered"  # type: ignore[union-attr]


def test_the_loser_of_two_accepts_gets_a_conflict(dispatch_app: Flask) -> None:
    request_id, first, second = two_open_offers(dispatch_app)
    answer(dispatch_app, accept_offer, first)
    with pytest.raises(Conflict, match="someone else is helping"):
        answer(dispatch_app, accept_offer, second)
    statuses = {o.id: o.status for o in offers(dispatch_app, request_id)}
    assert statuses == {first: "accepted", second: "withdrawn"}  # and its holder is told
    assert types_for(dispatch_app, request_id).count("offer.accepted") == 1
    [withdrawn] = [e for e in events_for(dispatch_app, request_id) if e["type"] == "offer.withdrawn"]
    assert withdrawn["payload"]["offer_id"] == second


def test_several_offers_at_once_the_first_to_accept_wins(dispatch_app: Flask) -> None:
    hub = hub_of(dispatch_app)
    at_once = Policy(offers_at_once=3)
    for _ in range(4):
        volunteer(dispatch_app)
    event = new_event("request.submitted", request_submitted_payload(), request_id=str(uuid.uuid4()))
    with hub.db.transaction() as session:
        receive_request(session, deps_for(dispatch_app, at_once), event)
    request_id = event.request_id
    assert request_id is not None
    out = offers(dispatch_app, request_id)
    assert [o.status for o in out] == ["offered"] * 3
    with hub.db.transaction() as session:  # one declines: a fourth volunteer is asked
        decline_offer(session, deps_for(dispatch_app, at_once), out[0].id)
    assert [o.status for o in offers(dispatch_app, request_id)].count("offered") == 3
    answer(dispatch_app, accept_offer, out[1].id)
    statuses = sorted(o.status for o in offers(dispatch_app, request_id))
    assert statuses == ["accepted", "declined", "withdrawn", "withdrawn"]
    with hub.db.sessions() as session:  # withdrawn offers free their holders' places
        in_hand = session.scalars(select(Volunteer.active_tasks).order_by(Volunteer.active_tasks)).all()
    assert in_hand == [0, 0, 0, 1]


def test_a_volunteer_who_gives_a_task_back_releases_it_to_the_next(dispatch_app: Flask) -> None:
    hub = hub_of(dispatch_app)
    first = volunteer(dispatch_app)
    second = volunteer(dispatch_app, postcode="KT2 1AA")
    request_id = request(dispatch_app)
    taken = answer(dispatch_app, accept_offer, current_offer(dispatch_app, request_id).id)
    assert taken.volunteer_id == first
    with hub.db.transaction() as session:
        release_task(session, deps_for(dispatch_app), taken.id, "I am unwell")
    assert current_offer(dispatch_app, request_id).volunteer_id == second
    released = [e for e in events_for(dispatch_app, request_id) if e["type"] == "task.released"]
    assert released[0]["payload"]["reason"] == "I am unwell"
    with pytest.raises(Conflict, match="gave this task back"), hub.db.transaction() as session:
        release_task(session, deps_for(dispatch_app), taken.id, "again")


# -- continuity ----------------------------------------------------------------------------------

HELPED_BEFORE = "helped this person before (both agreed to it)"


def helped_once(app: Flask, **volunteer_fields: Any) -> str:
    """A volunteer who did a task for Margaret (her phone) and finished it; their id."""
    helper = volunteer(app, postcode="KT6 4DT", max_distance_km=10.0, **volunteer_fields)
    first = request(app)
    offer = current_offer(app, first)
    assert offer.volunteer_id == helper
    answer(app, accept_offer, offer.id)
    hub = hub_of(app)
    with hub.db.transaction() as session:
        complete_task(session, deps_for(app), offer.id)
    return helper


def ranking_of(app: Flask, request_id: str) -> list[dict[str, Any]]:
    [event] = [e for e in events_for(app, request_id) if e["type"] == "match.ranked"][-1:]
    return event["payload"]["candidates"]


def test_who_helped_before_comes_first_when_the_requester_asks_for_it(dispatch_app: Flask) -> None:
    helper = helped_once(dispatch_app)
    nearer = volunteer(dispatch_app, postcode="KT1 1EU", name="Ben Okafor")
    again = request(dispatch_app, continuity=True)
    [first, second] = ranking_of(dispatch_app, again)
    assert (first["volunteer_id"], first["name"]) == (helper, "Asha Patel")
    assert HELPED_BEFORE in first["reasons"]
    assert second["volunteer_id"] == nearer and HELPED_BEFORE not in second["reasons"]
    assert current_offer(dispatch_app, again).volunteer_id == helper
    # Without the wish, the nearer volunteer comes first as usual.
    plain = request(dispatch_app)
    assert ranking_of(dispatch_app, plain)[0]["volunteer_id"] == nearer


def test_continuity_needs_the_volunteer_to_agree_too(dispatch_app: Flask) -> None:
    helper = helped_once(dispatch_app, continuity=False)
    nearer = volunteer(dispatch_app, postcode="KT1 1EU")
    again = request(dispatch_app, continuity=True)
    ranking = ranking_of(dispatch_app, again)
    assert [c["volunteer_id"] for c in ranking] == [nearer, helper]
    assert not any(HELPED_BEFORE in c["reasons"] for c in ranking)


def test_who_helped_before_is_found_however_many_are_nearer(dispatch_app: Flask) -> None:
    helper = helped_once(dispatch_app)
    for _ in range(55):  # more than the shortlist of the nearest
        volunteer(dispatch_app, postcode="KT1 1EU")
    again = request(dispatch_app, continuity=True)
    assert ranking_of(dispatch_app, again)[0]["volunteer_id"] == helper
    other_person = request(
        dispatch_app,
        continuity=True,
        requester=request_submitted_payload()["requester"] | {"phone": "+447700900999"},
    )
    assert helper not in [c["volunteer_id"] for c in ranking_of(dispatch_app, other_person)]


def test_continuity_never_breaks_a_hard_rule(dispatch_app: Flask) -> None:
    helper = helped_once(dispatch_app)
    client_as(dispatch_app).patch(f"/api/v1/volunteers/{helper}", json={"on_duty": False})
    again = request(dispatch_app, continuity=True)
    assert ranking_of(dispatch_app, again) == [] and offers(dispatch_app, again) == []


def offered_to(app: Flask, request_id: str) -> list[str]:
    return [o.volunteer_id for o in offers(app, request_id)]


def test_matching_sees_skills_and_weekly_times_as_they_change(dispatch_app: Flask) -> None:
    """Matching reads copies of each volunteer's skills and "has weekly times" from their row:
    they follow every change, whichever way it is made."""
    hub = hub_of(dispatch_app)
    driver = volunteer(dispatch_app, email="dev@example.org", skills=["driving"])
    assert offered_to(dispatch_app, request(dispatch_app)) == []  # a shopping request

    def change(**fields: Any) -> None:
        with hub.db.transaction() as session:
            upsert_volunteer(session, {"email": "dev@example.org"} | fields, set(fields))

    change(skills=["driving", "shopping"])
    assert offered_to(dispatch_app, request(dispatch_app)) == [driver]
    now = datetime.now(UTC).astimezone(LONDON)
    never_now = {"weekday": (now.weekday() + 3) % 7, "start_minute": 0, "end_minute": 60}
    change(availability=[never_now])
    assert offered_to(dispatch_app, request(dispatch_app)) == []
    change(availability=[])
    assert offered_to(dispatch_app, request(dispatch_app)) == [driver]
    with hub.db.sessions() as session:
        row = session.get(Volunteer, driver)
        assert row is not None and (row.skill_bits, row.has_slots) == (1 | 16, False)
