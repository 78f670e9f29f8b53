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

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from hub_shared.db import Database
from hub_shared.errors import NotFound
from hub_shared.events import Event
from hub_shared.states import IllegalMove, label
from hub_shared.uow import UnitOfWork
from hub_shared.webhooks import partner_secrets
from notify.enums import ASKED_MOVES, MESSAGE_MOVES, ChannelName, Keyword, MessageStatus, Receipt, SendOutcome
from notify.mail import DeliveryError, SmtpSender
from notify.models import Attempt, Message, OptOut, Reply
from notify.ratelimit import RateLimiter
from notify.sms import SmsProvider, segments
from notify.webhook import post_webhook

# Renders a channel's template ("email", "offer") with values into (subject, body); a text
# message's subject is "".
Render = Callable[[str, str, dict[str, Any]], tuple[str, str]]

LONDON = ZoneInfo("Europe/London")
MAX_ATTEMPTS = 8
SENDING_LEASE = timedelta(minutes=2)  # longer than one SMTP conversation or HTTP call can take


def now_utc() -> datetime:
    return datetime.now(UTC)


def retry_delay(attempts: int, first: float = 30.0) -> timedelta:
    """Exponential backoff for transient failures: 30 s, 1 min, 2 min, ... up to an hour, each
    with up to a fifth of random jitter, so messages that failed together do not retry together."""
    delay = min(first * 2 ** (attempts - 1), 3600.0)
    return timedelta(seconds=delay * random.uniform(1.0, 1.2))


def queue_message(
    session: Session,
    event: Event,
    *,
    template: str,
    channel: str,
    recipient: str,
    content: Callable[[], tuple[str, str]],
    partner_id: str | None = None,
    urgent: bool = False,
    subject_id: str | None = None,
    not_before: datetime | None = None,
    secret_generation: int | None = None,
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
            urgent=urgent,
            segments=segments(body) if channel == ChannelName.sms else None,
            subject_id=subject_id,
            secret_generation=secret_generation,
            next_attempt_at=not_before,
            status=MessageStatus.queued,
            attempts=0,
            created_at=now_utc(),
        )
    )


def queue_email(session: Session, event: Event, render: Render, *, template: str, recipient: str) -> None:
    queue_message(
        session,
        event,
        template=template,
        channel=ChannelName.email,
        recipient=recipient,
        content=lambda: render(ChannelName.email, template, event.payload),
    )


def queued_for_event(db: Database, event_id: str) -> list[str]:
    with db.sessions() as session:
        return list(
            session.scalars(
                select(Message.id).where(Message.event_id == event_id, Message.status == MessageStatus.queued)
            )
        )


def due_messages(db: Database, limit: int = 100) -> list[str]:
    """Messages waiting to be sent whose time has come; hands back expired sending leases."""
    now = now_utc()
    with db.transaction() as session:
        session.execute(
            update(Message)
            .where(Message.status == MessageStatus.sending, Message.next_attempt_at <= now)
            .values(status=MessageStatus.queued)
        )
        return list(
            session.scalars(
                select(Message.id)
                .where(
                    Message.status == MessageStatus.queued,
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


@dataclass(frozen=True)
class Channels:
    """How messages leave: SMTP, the SMS provider, partners' webhooks. A channel with nothing
    configured keeps its messages in the dev outbox (held)."""

    smtp_url: str | None = None
    mail_from: str = "Community Help Hub <hub@localhost>"
    secret_key: str | None = None  # partners' webhook secrets derive from it
    sms: SmsProvider | None = None
    status_callback: str = ""  # notify's public /sms/status, for delivery receipts
    quiet_hours: tuple[int, int] | None = None  # London minutes after midnight: no SMS unless urgent
    sms_limiter: RateLimiter | None = None  # the provider-wide rate, shared by every worker
    retry_seconds: float = 30.0  # the first retry's delay; each next one doubles
    # How long a send may take before the sweep decides its worker died and hands the message
    # back. Longer than any send can take (SMTP gives up after 20 s, HTTP after 15).
    lease: timedelta = SENDING_LEASE
    # Makes an email's HTML part from its subject and text (an overridable template); None: text only.
    html_layout: Callable[[str, str], str] | None = None

    def configured(self, channel: str) -> bool:
        configured = {ChannelName.email: self.smtp_url, ChannelName.sms: self.sms, ChannelName.webhook: True}
        return configured[ChannelName(channel)] is not None


def quiet_until(now: datetime, quiet_hours: tuple[int, int] | None) -> datetime | None:
    """If `now` is in the quiet hours (London time), when they end; else None. A window that
    ends when it starts ("00:00-00:00") is the whole day."""
    if quiet_hours is None:
        return None
    start, end = quiet_hours
    local = now.astimezone(LONDON)
    minute = local.hour * 60 + local.minute
    quiet = start <= minute < end if start < end else minute >= start or minute < end
    if not quiet:
        return None
    ends = local.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


def deliver(uow: UnitOfWork, bus: Bus, message_id: str, channels: Channels) -> SendOutcome:
    """Send one queued message, at most once per claim. Returns what became of it: sent, held,
    retrying, failed, waiting (quiet hours or the rate limit: not an attempt) or skipped."""
    now = now_utc()
    with uow.begin() as session:
        claimed = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status.in_(MESSAGE_MOVES.sources(MessageStatus.sending)))
            .where((Message.next_attempt_at.is_(None)) | (Message.next_attempt_at <= now))
            .values(
                status=MessageStatus.sending,
                attempts=Message.attempts + 1,
                next_attempt_at=now + channels.lease,
            )
        ).rowcount
        if not claimed:
            return SendOutcome.skipped  # another worker has it, or it is done
        message = session.get(Message, message_id)
        assert message is not None
        if not channels.configured(message.channel):
            # Nothing to send it with: the message stays in the dev outbox, readable at /outbox.
            message.status, message.next_attempt_at = MessageStatus.held, None
            session.add(Attempt(message_id=message.id, at=now, outcome=SendOutcome.held, error=None))
            _outcome(bus, session, message, "notification.sent", channel=ChannelName.dev_outbox)
            return SendOutcome.held
        # Read here, in the claim's transaction, and before the rate limit spends a token on it.
        stopped = message.channel == ChannelName.sms and session.get(OptOut, message.recipient) is not None
        later = None if stopped else hold_back(message, channels, now)
        if later is not None:  # not an attempt: hand it back for when it may go
            message.status, message.attempts, message.next_attempt_at = (
                MessageStatus.queued,
                message.attempts - 1,
                later,
            )
            return SendOutcome.waiting
    provider_id = None
    try:
        if message.channel == ChannelName.webhook:
            if not channels.secret_key or not message.partner_id:
                raise DeliveryError("no secret to sign the webhook with", permanent=True)
            secrets = partner_secrets(channels.secret_key, message.partner_id, message.secret_generation or 1)
            post_webhook(message.recipient, secrets, message.id, message.body)
        elif message.channel == ChannelName.sms:
            assert channels.sms is not None
            if stopped:
                raise DeliveryError("the number replied STOP: no more texts to it", permanent=True)
            provider_id = channels.sms.send(
                to=message.recipient, body=message.body, status_callback=channels.status_callback
            )
        else:
            html = channels.html_layout(message.subject, message.body) if channels.html_layout else None
            SmtpSender.from_url(channels.smtp_url).send(  # type: ignore[arg-type]
                sender=channels.mail_from,
                recipient=message.recipient,
                subject=message.subject,
                body=message.body,
                html=html,
            )
    except DeliveryError as exc:
        with uow.begin() as session:
            message = session.get(Message, message_id)
            message.last_error = str(exc)
            if exc.permanent or message.attempts >= MAX_ATTEMPTS:
                message.status, message.next_attempt_at = MessageStatus.failed, None
                session.add(
                    Attempt(message_id=message.id, at=now_utc(), outcome=SendOutcome.failed, error=str(exc))
                )
                _outcome(bus, session, message, "notification.failed", str(exc))
                return SendOutcome.failed
            session.add(
                Attempt(message_id=message.id, at=now_utc(), outcome=SendOutcome.retrying, error=str(exc))
            )
            delay = retry_delay(message.attempts, channels.retry_seconds)
            message.status, message.next_attempt_at = MessageStatus.queued, now_utc() + delay
            return SendOutcome.retrying
    with uow.begin() as session:
        message = session.get(Message, message_id)
        message.status, message.sent_at, message.next_attempt_at = MessageStatus.sent, now_utc(), None
        message.provider_id = provider_id
        session.add(Attempt(message_id=message.id, at=message.sent_at, outcome=SendOutcome.sent, error=None))
        _outcome(bus, session, message, "notification.sent")
    return SendOutcome.sent


RATE_WAIT_IN_WORKER = 2.0  # seconds a worker waits for the rate limit itself, beyond that the sweep


def hold_back(message: Message, channels: Channels, now: datetime) -> datetime | None:
    """When a text may go, if not now: after the quiet hours (unless urgent), or when the
    provider-wide rate allows its segments."""
    if message.channel != ChannelName.sms:
        return None
    if not message.urgent:
        later = quiet_until(now, channels.quiet_hours)
        if later is not None:
            return later
    if channels.sms_limiter is None:
        return None
    try:
        wait = channels.sms_limiter.take(message.segments or 1)
        while 0 < wait <= RATE_WAIT_IN_WORKER:
            time.sleep(wait)
            wait = channels.sms_limiter.take(message.segments or 1)
    except redis.RedisError:
        return now + timedelta(seconds=5)  # no Redis, no rate: wait rather than flood
    return now + timedelta(seconds=wait) if wait > 0 else None


# -- what the SMS provider tells us: replies and delivery receipts ------------------------------

KEYWORDS = {
    "yes": Keyword.yes, "y": Keyword.yes,
    "no": Keyword.no, "n": Keyword.no,
    "done": Keyword.done,
    "stop": Keyword.stop, "stopall": Keyword.stop, "unsubscribe": Keyword.stop, "cancel": Keyword.stop,
    "end": Keyword.stop, "quit": Keyword.stop,
}  # fmt: skip


def keyword_of(body: str) -> Keyword:
    """What a reply asks for, from its first word ("Yes!" is yes); anything else is `other`."""
    words = body.strip().split()
    first = "".join(c for c in words[0] if c.isalnum()).lower() if words else ""
    return KEYWORDS.get(first, Keyword.other)


def receive_reply(session: Session, bus: Bus, *, provider_id: str, sender: str, body: str) -> Reply | None:
    """Record a volunteer's text once (a replayed webhook finds it) and pass what it asks for to
    dispatch. STOP also stops every text to that number here. None if it was seen before."""
    if session.scalar(select(Reply.id).where(Reply.provider_id == provider_id)):
        return None
    now = now_utc()
    reply = Reply(
        id=str(uuid.uuid4()),
        provider_id=provider_id,
        sender=sender,
        body=body[:1600],
        keyword=keyword_of(body),
        received_at=now,
    )
    session.add(reply)
    if reply.keyword == Keyword.stop and session.get(OptOut, sender) is None:
        session.add(OptOut(phone=sender, opted_out_at=now))
    bus.publish(session, "reply.received", {"reply_id": reply.id, "phone": sender, "keyword": reply.keyword})
    return reply


# What each settling receipt makes of the message.
RECEIPTS: dict[str, MessageStatus] = {
    Receipt.delivered: MessageStatus.delivered,
    Receipt.undelivered: MessageStatus.failed,
    Receipt.failed: MessageStatus.failed,
}


def record_receipt(
    session: Session, bus: Bus, *, provider_id: str, status: str, error_code: str | None
) -> bool:
    """The provider's word on a text we sent: delivered, or not (with its error code). Other
    statuses (queued, sent) change nothing. False if the message is not ours."""
    message = session.scalar(select(Message).where(Message.provider_id == provider_id))
    if message is None:
        return False
    outcome = RECEIPTS.get(status)
    if outcome is None or not MESSAGE_MOVES.allows(message.status, outcome):
        return True  # a step on the way, or an answer we already have (or a late one)
    if outcome == MessageStatus.delivered:
        message.status, message.delivered_at = MessageStatus.delivered, now_utc()
    else:
        message.status = MessageStatus.failed
        message.last_error = f"the SMS provider reports it {status}" + (
            f" (error {error_code})" if error_code else ""
        )
        _outcome(bus, session, message, "notification.failed", message.last_error)
    return True


def retry_failed(session: Session, message_id: str) -> Message:
    """A coordinator sends a failed message again (a partner's webhook that was down for days):
    it is queued with a fresh count of attempts; its earlier attempts stay in the log. NotFound
    if there is no such message; Conflict if it has not failed."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound("There is no such message.")
    if not ASKED_MOVES.allows(message.status, MessageStatus.queued):
        raise IllegalMove(f"Only a failed message can be sent again; this one is {label(message.status)}.")
    message.status, message.attempts, message.next_attempt_at = MessageStatus.queued, 0, None
    return message


def cancel_reminders(session: Session, subject_id: str) -> int:
    """The offer or referral was answered (or closed): reminders still waiting are not sent."""
    result = session.execute(
        update(Message)
        .where(
            Message.subject_id == subject_id,
            Message.status.in_(MESSAGE_MOVES.sources(MessageStatus.cancelled)),
        )
        .values(status=MessageStatus.cancelled, next_attempt_at=None)
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]
