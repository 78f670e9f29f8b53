"""notify's use cases: turn events into messages (email to volunteers and partners, signed
webhooks to partners' systems), record each before sending, send it once.

A message is written (queued) in the same transaction that marks its event as processed, so a
redelivered event finds it there and sends nothing twice. Sending claims the message with a
lease (status `sending`) first; if the worker dies mid-send, the sweep hands it back after the
lease. SMTP takes no idempotency key, so one window remains: a crash after the server accepted
the mail and before `sent` commits sends it again. It is kept as short as a commit. (A webhook
carries the message id as its webhook-id, so a partner can drop such a repeat.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub_shared.bus import Bus, Handler
from hub_shared.db import Database
from hub_shared.events import Event
from hub_shared.webhooks import partner_secret
from notify.mail import DeliveryError, SmtpSender
from notify.models import Message
from notify.webhook import post_webhook

# Renders a template with values into (subject, body).
Render = Callable[[str, dict[str, Any]], tuple[str, str]]

MAX_ATTEMPTS = 8
SENDING_LEASE = timedelta(minutes=2)  # longer than one SMTP conversation can take


def now_utc() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff for transient failures: 30 s, 1 min, 2 min, ... up to an hour."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _queue(
    session: Session,
    event: Event,
    *,
    template: str,
    channel: str,
    recipient: str,
    content: Callable[[], tuple[str, str]],
    partner_id: str | None = None,
) -> None:
    """Record a message once per event, recipient and template; `content` makes its subject and
    body (only when it is new)."""
    key = f"{event.id}:{recipient}:{template}"
    if session.scalar(select(Message.id).where(Message.dedupe_key == key)):
        return
    subject, body = content()
    session.add(
        Message(
            id=str(uuid.uuid4()),
            dedupe_key=key,
            event_id=event.id,
            request_id=event.request_id,
            template=template,
            channel=channel,
            recipient=recipient,
            partner_id=partner_id,
            subject=subject,
            body=body,
            status="queued",
            attempts=0,
            created_at=now_utc(),
        )
    )


def queue_email(session: Session, event: Event, render: Render, *, template: str, recipient: str) -> None:
    _queue(
        session,
        event,
        template=template,
        channel="email",
        recipient=recipient,
        content=lambda: render(template, event.payload),
    )


def to_volunteer(template: str) -> Callable[[Session, Event, Render], None]:
    """A handler that emails the event's volunteer with `template`, if they have an email."""

    def handle(session: Session, event: Event, render: Render) -> None:
        email = event.payload["volunteer"].get("email")
        if email:
            queue_email(session, event, render, template=template, recipient=email)

    return handle


def to_partner(template: str) -> Callable[[Session, Event, Render], None]:
    """A handler that tells the event's partner group, by email or by a signed webhook (a JSON
    body in the Standard Webhooks shape: type, timestamp, data)."""

    def handle(session: Session, event: Event, render: Render) -> None:
        partner = event.payload["partner"]
        if partner["channel"] == "email":
            queue_email(session, event, render, template=template, recipient=partner["email"])
            return
        data = {key: value for key, value in event.payload.items() if key != "partner"}
        body = {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": data}
        _queue(
            session,
            event,
            template=template,
            channel="webhook",
            recipient=partner["webhook_url"],
            partner_id=partner["id"],
            content=lambda: (event.type, json.dumps(body, default=datetime.isoformat, sort_keys=True)),
        )

    return handle


TO_PEOPLE = {
    "offer.sent": to_volunteer("offer"),
    "offer.accepted": to_volunteer("offer_accepted"),
    "offer.withdrawn": to_volunteer("offer_withdrawn"),
    "volunteer.signed_up": to_volunteer("verify_email"),
    "referral.sent": to_partner("referral"),
    "referral.accepted": to_partner("referral_accepted"),
}


def handlers(render: Render) -> dict[str, Handler]:
    return {
        event_type: (lambda session, event, handle=handle: handle(session, event, render))
        for event_type, handle in TO_PEOPLE.items()
    }


def queued_for_event(db: Database, event_id: str) -> list[str]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(Message.id).where(Message.event_id == event_id, Message.status == "queued")
            )
        )


def due_messages(db: Database, limit: int = 100) -> list[str]:
    """Messages waiting to be sent whose time has come; hands back expired sending leases."""
    now = now_utc()
    with db.transaction() as session:
        session.execute(
            update(Message)
            .where(Message.status == "sending", Message.next_attempt_at <= now)
            .values(status="queued")
        )
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.status == "queued",
                    (Message.next_attempt_at.is_(None)) | (Message.next_attempt_at <= now),
                )
                .order_by(Message.created_at)
                .limit(limit)
            )
        )


def _outcome(
    bus: Bus,
    session: Session,
    message: Message,
    type: str,
    error: str | None = None,
    channel: str | None = None,
) -> None:
    payload = {
        "message_id": message.id,
        "channel": channel or message.channel,
        "template": message.template,
        "error": error,
    }
    bus.publish(session, type, payload, request_id=message.request_id)


def deliver(
    db: Database,
    bus: Bus,
    message_id: str,
    *,
    smtp_url: str | None,
    mail_from: str,
    secret_key: str | None = None,
) -> str:
    """Send one queued message, at most once per claim. Returns what became of it. Email waits
    in the dev outbox when no SMTP server is set; webhooks are signed with the partner's secret
    (derived from secret_key)."""
    now = now_utc()
    with db.transaction() as session:
        claimed = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == "queued")
            .where((Message.next_attempt_at.is_(None)) | (Message.next_attempt_at <= now))
            .values(status="sending", attempts=Message.attempts + 1, next_attempt_at=now + SENDING_LEASE)
        ).rowcount
        if not claimed:
            return "skipped"  # another worker has it, or it is done
        message = session.get(Message, message_id)
        assert message is not None
        if message.channel == "email" and smtp_url is None:
            # No mail server configured: the message stays in the dev outbox, readable at /outbox.
            message.status, message.next_attempt_at = "held", None
            _outcome(bus, session, message, "notification.sent", channel="dev_outbox")
            return "held"
    try:
        if message.channel == "webhook":
            if not secret_key or not message.partner_id:
                raise DeliveryError("no secret to sign the webhook with", permanent=True)
            secret = partner_secret(secret_key, message.partner_id)
            post_webhook(message.recipient, secret, message.id, message.body)
        else:
            SmtpSender.from_url(smtp_url).send(  # type: ignore[arg-type]
                sender=mail_from, recipient=message.recipient, subject=message.subject, body=message.body
            )
    except DeliveryError as exc:
        with db.transaction() as session:
            message = session.get(Message, message_id)
            message.last_error = str(exc)
            if exc.permanent or message.attempts >= MAX_ATTEMPTS:
                message.status, message.next_attempt_at = "failed", None
                _outcome(bus, session, message, "notification.failed", str(exc))
                return "failed"
            message.status, message.next_attempt_at = "queued", now_utc() + retry_delay(message.attempts)
            return "retrying"
    with db.transaction() as session:
        message = session.get(Message, message_id)
        message.status, message.sent_at, message.next_attempt_at = "sent", now_utc(), None
        _outcome(bus, session, message, "notification.sent")
    return "sent"
