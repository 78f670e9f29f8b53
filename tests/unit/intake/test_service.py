"""intake follows each request through the other services' events (status and timeline, in the
order things happened, not the order events arrive) and republishes requests that stalled."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from hub_shared.events import Event, new_event
from intake.models import HelpRequest, TimelineEntry
from intake.requests.handlers import reconcile, record_progress
from intake.requests.schemas import RequestIn
from intake.requests.service import submit_request
from tests.support.hub import request_body
from tests.unit.conftest import client_as, hub_of, outbox

VOLUNTEER_ID = "v-0123456789"
VOLUNTEER: dict[str, Any] = {
    "id": VOLUNTEER_ID,
    "name": "Asha Patel",
    "email": "asha@example.org",
    "phone": None,
}


def submit(app: Flask) -> str:
    hub = hub_of(app)
    with hub.db.transaction() as session:
        return submit_request(session, hub.bus, RequestIn().load(request_body())).id


def payload_for(type: str) -> dict[str, Any]:
    offer: dict[str, Any] = {"offer_id": "o-1", "reference": "KXT-4QM", "need": "shopping"}
    payloads: dict[str, dict[str, Any]] = {
        "offer.sent": offer
        | {
            "volunteer": VOLUNTEER,
            "urgency": "normal",
            "area": "KT1",
            "expires_at": datetime.now(UTC) + timedelta(hours=4),
            "accept_url": "http://dispatch.test/a",
            "decline_url": "http://dispatch.test/d",
        },
        "offer.accepted": offer
        | {
            "volunteer": VOLUNTEER,
            "requester": {"name": "Margaret Hill"},
            "complete_url": "http://dispatch.test/c",
        },
        "offer.declined": {"offer_id": "o-1", "volunteer_id": VOLUNTEER_ID},
        "task.completed": {"offer_id": "o-1", "volunteer_id": VOLUNTEER_ID},
        "request.escalated": {"reason": "no eligible volunteer is left to ask"},
        "notification.sent": {"message_id": "m-1", "channel": "email", "template": "offer"},
    }
    return payloads[type]


def event(type: str, request_id: str, at: datetime | None = None) -> Event:
    made = new_event(type, payload_for(type), request_id=request_id)
    return dataclasses.replace(made, occurred_at=at) if at else made


def apply(app: Flask, *events: Event) -> None:
    with hub_of(app).db.transaction() as session:
        for e in events:
            record_progress(session, e)


def state(app: Flask, request_id: str) -> tuple[str, list[str]]:
    """The request's status and its timeline's kinds, in timeline order."""
    with hub_of(app).db.sessions() as session:
        request = session.get(HelpRequest, request_id)
        assert request is not None
        return request.status, [entry.kind for entry in request.timeline]


# -- following progress -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type", "status"),
    [
        ("offer.sent", "offered"),
        ("offer.accepted", "assigned"),
        ("offer.declined", "matching"),
        ("task.completed", "completed"),
        ("request.escalated", "escalated"),
    ],
)
def test_an_event_moves_the_status_and_adds_to_the_timeline(
    intake_app: Flask, type: str, status: str
) -> None:
    request_id = submit(intake_app)
    apply(intake_app, event(type, request_id))
    assert state(intake_app, request_id) == (status, ["request.submitted", type])


def test_a_notification_adds_to_the_timeline_without_moving_the_status(intake_app: Flask) -> None:
    request_id = submit(intake_app)
    apply(intake_app, event("offer.sent", request_id), event("notification.sent", request_id))
    assert state(intake_app, request_id) == (
        "offered",
        ["request.submitted", "offer.sent", "notification.sent"],
    )


def test_timeline_summaries_name_no_person(intake_app: Flask) -> None:
    """The timeline is shown widely: a volunteer appears by a short id, never by name."""
    request_id = submit(intake_app)
    apply(intake_app, event("offer.accepted", request_id))
    with hub_of(intake_app).db.sessions() as session:
        summaries = [e.summary for e in session.scalars(select(TimelineEntry))]
    assert any(VOLUNTEER_ID[:8] in s for s in summaries)
    assert not any("Asha" in s or "Margaret" in s for s in summaries)


def test_an_older_event_arriving_late_does_not_overwrite_a_newer_status(intake_app: Flask) -> None:
    request_id = submit(intake_app)
    t0 = datetime.now(UTC)
    sent = event("offer.sent", request_id, at=t0 + timedelta(seconds=1))
    accepted = event("offer.accepted", request_id, at=t0 + timedelta(seconds=2))
    apply(intake_app, accepted)
    apply(intake_app, sent)  # redelivered late, after the acceptance
    status, kinds = state(intake_app, request_id)
    assert status == "assigned"
    # Both are in the timeline, in the order they happened.
    assert kinds == ["request.submitted", "offer.sent", "offer.accepted"]


def test_a_newer_event_does_move_the_status_on(intake_app: Flask) -> None:
    request_id = submit(intake_app)
    t0 = datetime.now(UTC)
    apply(intake_app, event("offer.accepted", request_id, at=t0 + timedelta(seconds=1)))
    apply(intake_app, event("task.completed", request_id, at=t0 + timedelta(seconds=2)))
    assert state(intake_app, request_id)[0] == "completed"


def test_an_event_for_an_unknown_request_changes_nothing(intake_app: Flask) -> None:
    request_id = submit(intake_app)
    apply(intake_app, event("offer.accepted", "no-such-request"))
    apply(intake_app, new_event("request.escalated", {"reason": "x"}, request_id=None))
    assert state(intake_app, request_id) == ("submitted", ["request.submitted"])
    with hub_of(intake_app).db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(TimelineEntry)) == 1


def test_events_arrive_through_the_bus_exactly_once(intake_app: Flask) -> None:
    """The registered handlers follow every event dispatch and notify send to intake."""
    request_id = submit(intake_app)
    message = event("offer.sent", request_id).to_message()
    bus = hub_of(intake_app).bus
    handlers = intake_app.extensions["intake"].handlers  # (the table the bootstrap built)
    assert bus.consume(message, handlers)[0] == "processed"
    assert bus.consume(message, handlers)[0] == "duplicate"
    assert state(intake_app, request_id) == ("offered", ["request.submitted", "offer.sent"])


# -- reconciliation -----------------------------------------------------------------------------


def outbox_published(app: Flask, request_id: str) -> list[bool]:
    Outbox = hub_of(app).bus.models.outbox
    with hub_of(app).db.sessions() as session:
        rows = session.scalars(select(Outbox).where(Outbox.request_id == request_id))
        return [row.published_at is not None for row in rows]


def age(app: Flask, request_id: str, *, seconds: int, status: str | None = None) -> None:
    """Pretend nothing has happened to a request for a while (and its events were sent)."""
    hub = hub_of(app)
    past = datetime.now(UTC) - timedelta(seconds=seconds)
    with hub.db.transaction() as session:
        values: dict[str, Any] = {"last_progress_at": past}
        if status:
            values["status"] = status
        session.execute(update(HelpRequest).where(HelpRequest.id == request_id).values(**values))
        Outbox = hub.bus.models.outbox
        session.execute(update(Outbox).where(Outbox.request_id == request_id).values(published_at=past))


def test_reconcile_republishes_a_request_stuck_in_submitted(intake_app: Flask) -> None:
    hub = hub_of(intake_app)
    stuck, recent = submit(intake_app), submit(intake_app)
    age(intake_app, stuck, seconds=1000)
    age(intake_app, recent, seconds=10)
    with hub.db.transaction() as session:
        assert reconcile(session, hub.bus, stall_seconds=900) == 1
    assert outbox_published(intake_app, stuck) == [False]  # queued to be sent again
    assert outbox_published(intake_app, recent) == [True]
    assert state(intake_app, stuck)[1] == ["request.submitted", "reconciled"]
    assert state(intake_app, recent)[1] == ["request.submitted"]
    # It then waits another stall period before trying again.
    with hub.db.transaction() as session:
        assert reconcile(session, hub.bus, stall_seconds=900) == 0


def test_reconcile_leaves_a_request_that_has_moved_on(intake_app: Flask) -> None:
    """Only 'submitted' means the first event was lost; an old 'offered' request is dispatch's job."""
    hub = hub_of(intake_app)
    request_id = submit(intake_app)
    age(intake_app, request_id, seconds=5000, status="offered")
    with hub.db.transaction() as session:
        assert reconcile(session, hub.bus, stall_seconds=900) == 0
    assert outbox_published(intake_app, request_id) == [True]


# -- the ranking kept for coordinators ----------------------------------------------------------


def ranked(request_id: str, at: datetime, *names: str) -> Event:
    candidates = [
        {
            "volunteer_id": f"v-{name}",
            "name": name,
            "rank": rank,
            "reasons": [f"{rank} km from home", "has the skill"],
        }
        for rank, name in enumerate(names, start=1)
    ]
    made = new_event("match.ranked", {"candidates": candidates}, request_id=request_id)
    return dataclasses.replace(made, occurred_at=at)


def test_the_latest_ranking_is_kept_and_shown_with_its_reasons(intake_app: Flask) -> None:
    request_id = submit(intake_app)
    t0 = datetime.now(UTC)
    apply(intake_app, ranked(request_id, t0 + timedelta(seconds=1), "Asha", "Ben"))
    apply(intake_app, ranked(request_id, t0 + timedelta(seconds=3), "Ben", "Carys"))
    apply(intake_app, ranked(request_id, t0 + timedelta(seconds=2), "Dev"))  # older, arriving late
    shown = client_as(intake_app).get(f"/api/v1/requests/{request_id}").get_json()
    assert shown["candidates"] == [
        {"rank": 1, "volunteer_id": "v-Ben", "name": "Ben", "reasons": ["1 km from home", "has the skill"]},
        {
            "rank": 2,
            "volunteer_id": "v-Carys",
            "name": "Carys",
            "reasons": ["2 km from home", "has the skill"],
        },
    ]
    page = client_as(intake_app).get(f"/requests/{request_id}").text
    assert "Carys" in page and "2 km from home; has the skill" in page and "Dev" not in page


def test_a_ranking_with_nobody_eligible_replaces_the_last_one(intake_app: Flask) -> None:
    request_id = submit(intake_app)
    t0 = datetime.now(UTC)
    apply(intake_app, ranked(request_id, t0 + timedelta(seconds=1), "Asha"))
    apply(intake_app, ranked(request_id, t0 + timedelta(seconds=2)))
    apply(intake_app, ranked(request_id, t0 + timedelta(seconds=1), "Asha"))  # redelivered, older
    assert client_as(intake_app).get(f"/api/v1/requests/{request_id}").get_json()["candidates"] == []
    assert "No volunteer was eligible" in client_as(intake_app).get(f"/requests/{request_id}").text


def test_the_wish_for_the_same_volunteer_travels_to_dispatch(intake_app: Flask) -> None:
    body = request_body(consent={"data_processing": True, "same_volunteer": True})
    client = client_as(intake_app)
    created = client.post("/api/v1/requests", json=body).get_json()
    assert client.get(f"/api/v1/requests/{created['id']}").get_json()["same_volunteer"] is True
    [submitted] = [e for e in outbox(intake_app, "request.submitted") if e["request_id"] == created["id"]]
    assert submitted["payload"]["continuity"] is True
    plain = client.post("/api/v1/requests", json=request_body()).get_json()
    assert client.get(f"/api/v1/requests/{plain['id']}").get_json()["same_volunteer"] is False


def test_a_safeguarding_concern_is_kept_and_announced(intake_app: Flask) -> None:
    client = client_as(intake_app)
    created = client.post("/api/v1/requests", json=request_body(safeguarding=True)).get_json()
    assert client.get(f"/api/v1/requests/{created['id']}").get_json()["safeguarding"] is True
    [submitted] = [e for e in outbox(intake_app, "request.submitted") if e["request_id"] == created["id"]]
    assert submitted["payload"]["safeguarding"] is True
    assert 'name="safeguarding"' in client.get("/").get_data(as_text=True)
