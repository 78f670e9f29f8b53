"""Coordinators hear of escalations as they happen, read the texts the hub cannot act on, and
get a daily digest of what was sent and what failed (once a day, however often it is asked)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from hub_shared.events import new_event
from notify.audiences import handlers, queue_digest
from notify.models import Message
from tests.support import sms_provider
from tests.support.events import request_submitted_payload
from tests.unit.conftest import client_as, hub_of, make_app
from tests.unit.notify.helpers import people, render_of

COORDINATORS = ("duty@hub.example.org", "lead@hub.example.org")
HUB = people(
    request_link=lambda request_id: f"http://intake.test/requests/{request_id}", coordinators=COORDINATORS
)


def by_template(app: Flask, template: str) -> list[Message]:
    with hub_of(app).db.sessions() as session:
        query = select(Message).where(Message.template == template).order_by(Message.recipient)
        return list(session.scalars(query))


def test_an_escalation_reaches_every_coordinator_with_a_link_to_the_request(notify_app: Flask) -> None:
    event = new_event(
        "request.escalated", {"reason": "no eligible volunteer is left to ask", "reference": "KXT-4QM"}, "r-9"
    )
    hub_of(notify_app).bus.consume(event.to_message(), handlers(render_of(notify_app), HUB))
    sent = by_template(notify_app, "escalation")
    assert [m.recipient for m in sent] == sorted(COORDINATORS)
    assert sent[0].subject == "Needs a coordinator: KXT-4QM"
    assert "no eligible volunteer" in sent[0].body and "http://intake.test/requests/r-9" in sent[0].body


def test_people_with_the_coordinator_role_hear_too_until_their_role_changes(notify_app: Flask) -> None:
    def consume(type: str, payload: dict[str, object], request_id: str | None = None) -> None:
        message = new_event(type, payload, request_id).to_message()
        assert hub_of(notify_app).bus.consume(message, handlers(render_of(notify_app), HUB))[0] == "processed"

    for person, email, role in (
        ("p1", "ada@hub.example.org", "coordinator"),
        ("p2", "cllr@x.org", "council"),
    ):
        consume("person.changed", {"person_id": person, "email": email, "role": role})
    consume("request.escalated", {"reason": "triage", "reference": "KXT-4QM"}, "r-1")
    assert [m.recipient for m in by_template(notify_app, "escalation")] == [
        "ada@hub.example.org",
        *sorted(COORDINATORS),
    ]
    consume("person.changed", {"person_id": "p1", "email": "ada@hub.example.org", "role": "admin"})
    consume("request.escalated", {"reason": "triage", "reference": "KXT-4QN"}, "r-2")
    assert len(by_template(notify_app, "escalation")) == 3 + 2  # Ada no longer coordinates


def test_with_no_coordinator_address_nothing_is_sent(notify_app: Flask) -> None:
    event = new_event("request.escalated", {"reason": "triage", "reference": "KXT-4QM"}, "r-9")
    hub_of(notify_app).bus.consume(event.to_message(), handlers(render_of(notify_app), people()))
    assert by_template(notify_app, "escalation") == []


@pytest.fixture
def app_with_sms(tmp_path: Path) -> Iterator[Flask]:
    env = sms_provider.SmsProvider().env() | {
        "HUB_NOTIFY_URL": "http://notify.test",
        "HUB_COORDINATORS_EMAIL": ", ".join(COORDINATORS),
    }
    yield from make_app(tmp_path, "notify", **env)


def test_a_text_the_hub_cannot_act_on_goes_to_the_coordinators(app_with_sms: Flask) -> None:
    url = "http://notify.test/sms/inbound"
    for sid, body in (("SMa", "Running 10 minutes late, tell her please"), ("SMb", "YES")):
        form = {"MessageSid": sid, "From": "+447700900101", "To": sms_provider.SENDER, "Body": body}
        headers = {"X-Twilio-Signature": sms_provider.signature(url, form)}
        assert client_as(app_with_sms).post("/sms/inbound", data=form, headers=headers).status_code == 200
    to_read = by_template(app_with_sms, "reply_for_coordinators")
    assert [m.recipient for m in to_read] == sorted(COORDINATORS)  # the YES needed nobody
    assert "Running 10 minutes late" in to_read[0].body and "+447700900101" in to_read[0].body


def test_the_digest_counts_the_day_and_lists_what_failed_once_a_day(notify_app: Flask) -> None:
    event = new_event("request.escalated", {"reason": "triage", "reference": "KXT-4QM"}, "r-9")
    hub_of(notify_app).bus.consume(event.to_message(), handlers(render_of(notify_app), HUB))
    db = hub_of(notify_app).db
    with db.transaction() as session:
        first = session.scalars(select(Message.id).where(Message.recipient == COORDINATORS[0])).one()
        session.execute(
            update(Message)
            .where(Message.id == first)
            .values(status="failed", last_error="the mail server answered 550")
        )
    now = datetime.now(UTC)
    for _ in range(2):  # beat asked twice: still one digest each
        with db.transaction() as session:
            queue_digest(session, render_of(notify_app), HUB, now)
    digests = by_template(notify_app, "digest")
    assert [m.recipient for m in digests] == sorted(COORDINATORS)
    body = digests[0].body
    assert "email failed: 1" in body and "email queued: 1" in body
    assert "Escalations to coordinators: 1" in body
    assert f"(message {first}): the mail server answered 550" in body


@pytest.mark.parametrize("concern", [True, False])
def test_a_safeguarding_concern_reaches_the_coordinators_at_once(notify_app: Flask, concern: bool) -> None:
    event = new_event("request.submitted", request_submitted_payload(safeguarding=concern), "r-7")
    hub_of(notify_app).bus.consume(event.to_message(), handlers(render_of(notify_app), HUB))
    told = by_template(notify_app, "safeguarding")
    if not concern:
        assert told == []
        return
    assert [m.recipient for m in told] == sorted(COORDINATORS)
    assert (
        told[0].subject == "Safeguarding concern: KXT-4QM"
        and "http://intake.test/requests/r-7" in told[0].body
    )
    assert "Margaret" not in told[0].body  # the page has the details, behind the hub's door
