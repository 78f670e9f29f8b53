"""Reminders before an offer or a referral expires (cancelled by its answer), thanks when a task
is done, and the log's view of every attempt, with a coordinator's retry of a failed message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub_shared.events import new_event
from notify.models import Message
from notify.service import deliver, due_messages
from tests.support.hub import free_port
from tests.unit.conftest import client_as, hub_of
from tests.unit.notify.helpers import delivery, parts_of

VOLUNTEER = {"id": "v-1", "name": "Asha Patel", "email": "asha@example.org", "phone": None}


def consume(app: Flask, type: str, payload: dict[str, Any]) -> None:
    message = new_event(type, payload, request_id="r-1").to_message()
    assert hub_of(app).bus.consume(message, parts_of(app).handlers)[0] == "processed"


def by_template(app: Flask, template: str) -> list[Message]:
    with hub_of(app).db.sessions() as session:
        return list(session.scalars(select(Message).where(Message.template == template)))


def offer_sent(expires_in: timedelta, urgency: str = "normal") -> dict[str, Any]:
    return {
        "offer_id": "o-1", "reference": "KXT-4QM", "volunteer": VOLUNTEER, "need": "shopping",
        "urgency": urgency, "area": "KT1", "expires_at": datetime.now(UTC) + expires_in,
        "accept_url": "http://dispatch.test/a", "decline_url": "http://dispatch.test/d",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("expires_in", "before_expiry"),
    [(timedelta(hours=4), timedelta(hours=1)), (timedelta(minutes=30), timedelta(minutes=7.5))],
)
def test_a_reminder_waits_until_shortly_before_the_offer_expires(
    notify_app: Flask, expires_in: timedelta, before_expiry: timedelta
) -> None:
    payload = offer_sent(expires_in)
    consume(notify_app, "offer.sent", payload)
    [reminder] = by_template(notify_app, "offer_reminder")
    assert reminder.subject_id == "o-1" and reminder.recipient == VOLUNTEER["email"]
    assert reminder.next_attempt_at is not None
    assert abs(reminder.next_attempt_at - (payload["expires_at"] - before_expiry)) < timedelta(seconds=5)
    assert reminder.id not in due_messages(hub_of(notify_app).db)  # not before its time
    assert "http://dispatch.test/a" in reminder.body


def test_an_answer_cancels_the_reminder(notify_app: Flask) -> None:
    consume(notify_app, "offer.sent", offer_sent(timedelta(hours=4)))
    consume(notify_app, "offer.declined", {"offer_id": "o-1", "volunteer_id": "v-1"})
    [reminder] = by_template(notify_app, "offer_reminder")
    assert (reminder.status, reminder.next_attempt_at) == ("cancelled", None)


def test_no_reminder_when_too_little_time_is_left(notify_app: Flask) -> None:
    consume(notify_app, "offer.sent", offer_sent(timedelta(seconds=30)))
    assert by_template(notify_app, "offer_reminder") == []
    assert len(by_template(notify_app, "offer")) == 1


def referral_sent(channel: str) -> dict[str, Any]:
    partner = {"id": "foodbank", "name": "Kingston Foodbank", "channel": channel, "email": "fb@example.org",
               "webhook_url": "https://fb.example.org/hook"}  # fmt: skip
    return {
        "referral_id": "f-1", "reference": "KXT-4QM", "partner": partner, "need": "food_parcel",
        "urgency": "normal", "area": "KT1", "expires_at": datetime.now(UTC) + timedelta(hours=24),
        "accept_url": "http://dispatch.test/ra", "reject_url": "http://dispatch.test/rr",
        "api_url": "http://dispatch.test/api/v1/referrals/f-1",
    }  # fmt: skip


def test_an_email_partner_is_reminded_until_it_answers(notify_app: Flask) -> None:
    consume(notify_app, "referral.sent", referral_sent("email"))
    [reminder] = by_template(notify_app, "referral_reminder")
    assert reminder.recipient == "fb@example.org" and "http://dispatch.test/rr" in reminder.body
    consume(
        notify_app, "referral.rejected", {"referral_id": "f-1", "partner_id": "foodbank", "reason": "full"}
    )
    assert by_template(notify_app, "referral_reminder")[0].status == "cancelled"


def test_a_partners_system_gets_no_reminder(notify_app: Flask) -> None:
    consume(notify_app, "referral.sent", referral_sent("webhook"))
    assert by_template(notify_app, "referral_reminder") == []


def test_a_volunteer_is_thanked_when_the_task_is_done(notify_app: Flask) -> None:
    consume(notify_app, "task.completed", {"offer_id": "o-1", "volunteer_id": "v-1", "volunteer": VOLUNTEER})
    [thanks] = by_template(notify_app, "thanks")
    assert thanks.recipient == VOLUNTEER["email"] and "delete" in thanks.body


def test_the_log_keeps_every_attempt_and_a_coordinator_can_retry_a_failed_message(notify_app: Flask) -> None:
    consume(notify_app, "offer.sent", offer_sent(timedelta(hours=4)))
    [offer] = by_template(notify_app, "offer")
    hub = hub_of(notify_app)
    nowhere = delivery(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    assert deliver(hub.uow, hub.bus, offer.id, nowhere) == "retrying"
    with hub.db.transaction() as session:
        session.get(Message, offer.id).next_attempt_at = None  # type: ignore[union-attr]
        session.get(Message, offer.id).attempts = 8  # type: ignore[union-attr]
    assert deliver(hub.uow, hub.bus, offer.id, nowhere) == "failed"
    client = client_as(notify_app)
    shown = client.get(f"/api/v1/messages/{offer.id}").get_json()
    assert shown["status"] == "failed"
    assert [(a["outcome"], "could not reach" in a["error"]) for a in shown["history"]] == [
        ("retrying", True),
        ("failed", True),
    ]
    assert client.post(f"/api/v1/messages/{offer.id}/retry").get_json()["status"] == "queued"
    assert offer.id in due_messages(hub.db)
    assert deliver(hub.uow, hub.bus, offer.id, delivery()) == "held"  # no server: the dev outbox
    assert [a["outcome"] for a in client.get(f"/api/v1/messages/{offer.id}").get_json()["history"]] == [
        "retrying",
        "failed",
        "held",
    ]
    assert client.post(f"/api/v1/messages/{offer.id}/retry").status_code == 409  # only a failed one
    assert client.post("/api/v1/messages/nope/retry").status_code == 404
    assert client.get("/api/v1/messages/nope").status_code == 404
