"""notify turns events into messages, recorded once (a redelivered event finds its message), and
sends each at most once per claim: held without SMTP, sent through a real SMTP server, retried
later when the server cannot be reached, and reclaimed when a send was abandoned."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from hub_shared.events import new_event, parse_event
from notify.audiences import handlers
from notify.mail import SmtpSender
from notify.models import Message
from notify.policies import MAX_ATTEMPTS
from notify.service import deliver, due_messages
from tests.support.hub import free_port
from tests.support.smtp import SmtpServer, body_of
from tests.unit.conftest import hub_of, outbox
from tests.unit.notify.helpers import delivery, parts_of, people

VOLUNTEER_EMAIL = "asha@example.org"
MAIL_FROM = "Community Help Hub <hub@example.org>"


def offer_sent(**volunteer: Any) -> dict[str, Any]:
    """An offer.sent message, as it arrives on notify's queue."""
    payload = {
        "offer_id": "o-1",
        "reference": "KXT-4QM",
        "volunteer": {"id": "v-1", "name": "Asha Patel", "email": VOLUNTEER_EMAIL, "phone": None} | volunteer,
        "need": "dog_walking",
        "urgency": "normal",
        "area": "KT1",
        "expires_at": datetime.now(UTC) + timedelta(hours=4),
        "accept_url": "http://dispatch.test/offers/TOKEN/accept",
        "decline_url": "http://dispatch.test/offers/TOKEN/decline",
    }
    return new_event("offer.sent", payload, request_id="r-1").to_message()


def consume(app: Flask, message: dict[str, Any]) -> str:
    outcome, _ = hub_of(app).bus.consume(message, parts_of(app).handlers)
    return outcome


def messages(app: Flask) -> list[Message]:
    """The messages recorded, but for reminders (test_reminders.py has those)."""
    with hub_of(app).db.sessions() as session:
        query = select(Message).where(~Message.template.endswith("_reminder")).order_by(Message.created_at)
        return list(session.scalars(query))


def message(app: Flask, message_id: str) -> Message:
    with hub_of(app).db.sessions() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def queued(app: Flask) -> str:
    """One queued offer message; its id."""
    assert consume(app, offer_sent()) == "processed"
    [only] = messages(app)
    return only.id


def send(app: Flask, message_id: str, smtp_url: str | None) -> str:
    hub = hub_of(app)
    return deliver(hub.uow, hub.bus, message_id, delivery(smtp_url=smtp_url, mail_from=MAIL_FROM))


# -- recording messages -------------------------------------------------------------------------


def test_an_offer_sent_queues_one_message_with_a_dedupe_key(notify_app: Flask) -> None:
    event = offer_sent()
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_render(channel: str, template: str, values: dict[str, Any]) -> tuple[str, str]:
        assert channel == "email"
        calls.append((template, values))
        return f"Subject for {values['reference']}", f"Body with {values['accept_url']}"

    hub = hub_of(notify_app)
    handler = handlers(fake_render, people())["offer.sent"]
    parsed = parse_event(event)  # the Event as the bus hands it to the handler
    for _ in range(2):  # the handler itself is idempotent too
        with hub.db.transaction() as session:
            handler(session, parsed)
    [queued_message] = messages(notify_app)
    assert queued_message.dedupe_key == f"{event['id']}:{VOLUNTEER_EMAIL}:offer"
    assert (queued_message.status, queued_message.attempts) == ("queued", 0)
    assert queued_message.recipient == VOLUNTEER_EMAIL and queued_message.request_id == "r-1"
    assert queued_message.subject == "Subject for KXT-4QM"
    assert "http://dispatch.test/offers/TOKEN/accept" in queued_message.body
    assert [template for template, _ in calls] == ["offer", "offer_reminder"]  # each rendered once


def test_the_real_template_gives_a_subject_and_the_links(notify_app: Flask) -> None:
    queued(notify_app)
    [queued_message] = messages(notify_app)
    assert queued_message.subject == "Can you help? Dog walking in KT1 (KXT-4QM)"
    assert "Hello Asha Patel" in queued_message.body
    assert "http://dispatch.test/offers/TOKEN/decline" in queued_message.body


def test_the_same_event_consumed_twice_gives_one_message(notify_app: Flask) -> None:
    event = offer_sent()
    assert consume(notify_app, event) == "processed"
    assert consume(notify_app, event) == "duplicate"
    assert len(messages(notify_app)) == 1


def test_a_volunteer_without_email_gets_no_message(notify_app: Flask) -> None:
    assert consume(notify_app, offer_sent(email=None)) == "processed"
    assert messages(notify_app) == []


# -- delivering ---------------------------------------------------------------------------------


def test_without_smtp_a_message_is_held_and_reported_sent(notify_app: Flask) -> None:
    message_id = queued(notify_app)
    assert send(notify_app, message_id, smtp_url=None) == "held"
    held = message(notify_app, message_id)
    assert (held.status, held.attempts, held.next_attempt_at) == ("held", 1, None)
    [outcome] = outbox(notify_app, "notification.sent")
    assert outcome["request_id"] == "r-1"
    assert outcome["payload"] == {
        "message_id": message_id,
        "channel": "dev_outbox",  # so the timeline says it was kept, not sent
        "template": "offer",
        "error": None,
    }


def test_a_message_that_is_not_queued_is_skipped(notify_app: Flask) -> None:
    message_id = queued(notify_app)
    assert send(notify_app, message_id, smtp_url=None) == "held"
    assert send(notify_app, message_id, smtp_url=None) == "skipped"
    assert send(notify_app, "no-such-message", smtp_url=None) == "skipped"
    assert message(notify_app, message_id).attempts == 1
    assert len(outbox(notify_app, "notification.sent")) == 1


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def test_with_a_real_smtp_server_a_message_is_sent_exactly_once(
    notify_app: Flask, smtp_server: SmtpServer
) -> None:
    message_id = queued(notify_app)
    assert send(notify_app, message_id, smtp_server.url) == "sent"
    assert send(notify_app, message_id, smtp_server.url) == "skipped"
    [mail] = smtp_server.mailbox.messages
    assert mail["To"] == VOLUNTEER_EMAIL and "KXT-4QM" in str(mail["Subject"])
    assert "http://dispatch.test/offers/TOKEN/accept" in body_of(mail)
    sent = message(notify_app, message_id)
    assert (sent.status, sent.attempts, sent.next_attempt_at) == ("sent", 1, None)
    assert sent.sent_at is not None
    assert len(outbox(notify_app, "notification.sent")) == 1


@pytest.mark.parametrize("quit_reply", ["421 4.3.0 Closing anyway", "554 5.0.0 Goodbye"])
def test_a_message_the_server_accepted_is_sent_once_whatever_it_answers_to_quit(
    notify_app: Flask, smtp_server: SmtpServer, quit_reply: str
) -> None:
    """The message is delivered once the server accepts DATA: an odd answer to QUIT after that
    must neither send it again (421 did, every time) nor mark it failed (a 5xx would have)."""
    smtp_server.mailbox.quit_reply = quit_reply
    message_id = queued(notify_app)
    assert send(notify_app, message_id, smtp_server.url) == "sent"
    assert len(smtp_server.mailbox.messages) == 1
    sent = message(notify_app, message_id)
    assert (sent.status, sent.attempts, sent.next_attempt_at) == ("sent", 1, None)


def test_an_unreachable_server_means_try_again_later(notify_app: Flask) -> None:
    message_id = queued(notify_app)
    before = datetime.now(UTC)
    assert send(notify_app, message_id, f"smtp://127.0.0.1:{free_port()}") == "retrying"
    waiting = message(notify_app, message_id)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > before
    assert waiting.last_error and "could not reach the mail server" in waiting.last_error
    assert message_id not in due_messages(hub_of(notify_app).db)  # not before its time
    assert outbox(notify_app) == []  # no outcome yet


def test_the_last_attempt_that_fails_marks_the_message_failed(notify_app: Flask) -> None:
    message_id = queued(notify_app)
    with hub_of(notify_app).db.transaction() as session:
        session.execute(update(Message).where(Message.id == message_id).values(attempts=MAX_ATTEMPTS - 1))
    assert send(notify_app, message_id, f"smtp://127.0.0.1:{free_port()}") == "failed"
    assert message(notify_app, message_id).status == "failed"
    [failed] = outbox(notify_app, "notification.failed")
    assert "could not reach" in failed["payload"]["error"]


# -- the sweep's view of what is due ------------------------------------------------------------


def add_message(app: Flask, status: str, next_attempt_at: datetime | None) -> str:
    message_id = str(uuid.uuid4())
    with hub_of(app).db.transaction() as session:
        session.add(
            Message(
                id=message_id,
                dedupe_key=message_id,
                event_id="e-1",
                request_id="r-1",
                template="offer",
                channel="email",
                recipient=VOLUNTEER_EMAIL,
                subject="s",
                body="b",
                status=status,
                attempts=1,
                created_at=datetime.now(UTC),
                next_attempt_at=next_attempt_at,
            )
        )
    return message_id


def test_due_messages_hands_back_an_abandoned_send_and_what_is_due(notify_app: Flask) -> None:
    now = datetime.now(UTC)
    abandoned = add_message(notify_app, "sending", now - timedelta(seconds=1))  # lease expired
    in_flight = add_message(notify_app, "sending", now + timedelta(minutes=1))  # lease still held
    due = add_message(notify_app, "queued", now - timedelta(seconds=1))
    new = add_message(notify_app, "queued", None)
    later = add_message(notify_app, "queued", now + timedelta(minutes=5))
    add_message(notify_app, "sent", None)
    assert set(due_messages(hub_of(notify_app).db)) == {abandoned, due, new}
    assert message(notify_app, abandoned).status == "queued"
    assert message(notify_app, in_flight).status == "sending"
    assert message(notify_app, later).status == "queued"


# -- the SMTP setting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpSender("smtp", "mail.example.org", 25, None, None)),
        ("smtp://127.0.0.1:2525", SmtpSender("smtp", "127.0.0.1", 2525, None, None)),
        (
            "smtp+starttls://user:pa%40ss@host:587",
            SmtpSender("smtp+starttls", "host", 587, "user", "pa@ss"),
        ),
        ("smtp+starttls://host", SmtpSender("smtp+starttls", "host", 587, None, None)),
        ("smtps://me%40example.org:x@host", SmtpSender("smtps", "host", 465, "me@example.org", "x")),
    ],
)
def test_smtp_urls_are_parsed(url: str, expected: SmtpSender) -> None:
    assert SmtpSender.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.org", "mail.example.org:25", "smtp://", ""])
def test_other_urls_are_refused_with_a_hint(url: str) -> None:
    with pytest.raises(ValueError, match="HUB_SMTP_URL must look like"):
        SmtpSender.from_url(url)


def test_a_volunteer_who_signed_up_is_emailed_the_link_to_verify(notify_app: Flask) -> None:
    signed_up = new_event(
        "volunteer.signed_up",
        {
            "volunteer": {"id": "v-1", "name": "Priya Shah", "email": "priya@example.org"},
            "verify_url": "http://dispatch.test/volunteers/verify/abc",
        },
    ).to_message()
    assert consume(notify_app, signed_up) == "processed"
    [queued_message] = messages(notify_app)
    assert (queued_message.template, queued_message.recipient) == ("verify_email", "priya@example.org")
    assert "http://dispatch.test/volunteers/verify/abc" in queued_message.body
    assert queued_message.request_id is None  # not about a request: no timeline to update
