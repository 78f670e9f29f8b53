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
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

import redis
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from hub_shared.db import Database
from hub_shared.errors import NotFound
from hub_shared.events import Event, NotificationOutcome
from hub_shared.states import IllegalMove, label
from hub_shared.uow import UnitOfWork
from notify.channels import Channel, DeliveryError
from notify.enums import ASKED_MOVES, MESSAGE_MOVES, ChannelName, MessageStatus, Receipt, SendOutcome
from notify.models import Attempt, EarlyReceipt, Message, OptOut
from notify.policies import Backoff, QuietHours, SendRate
from notify.sms import segments

# Renders a channel's template ("email", "offer") with values into (subject, body); a text
# message's subject is "".
Render = Callable[[str, str, dict[str, Any]], tuple[str, str]]


def now_utc() -> datetime:
    return datetime.now(UTC)


def fields_of(event: Event[Any]) -> dict[str, Any]:
    """An event's payload as its messages' templates read it: each field by name, people and
    partners as mappings, times as times."""
    return asdict(event.payload)


def queue_message(
    session: Session,
    event: Event[Any],
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


def queue_email(
    session: Session, event: Event[Any], render: Render, *, template: str, recipient: str
) -> None:
    queue_message(
        session,
        event,
        template=template,
        channel=ChannelName.email,
        recipient=recipient,
        content=lambda: render(ChannelName.email, template, fields_of(event)),
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
    outcome = NotificationOutcome(
        message_id=message.id, channel=channel or message.channel, template=message.template, error=error
    )
    bus.publish(session, type, outcome, request_id=message.request_id)


class TokenBucket(Protocol):
    def take(self, tokens: int) -> float:
        """Take `tokens` if the rate allows: 0.0, else the seconds to wait."""
        ...


@dataclass(frozen=True)
class Delivery:
    """How messages leave (notify.bootstrap makes it from the settings): an adapter for each
    channel configured (a channel without one keeps its messages in the dev outbox, held), and
    when they may go."""

    channels: Mapping[str, Channel]
    quiet_hours: QuietHours | None  # for texts, unless urgent
    backoff: Backoff
    rate: SendRate
    sms_limiter: TokenBucket | None  # the provider-wide rate, shared by every worker
    # How long a send may take before the sweep decides its worker died and hands the message
    # back. Longer than any send can take (SMTP gives up after 20 s, HTTP after 15).
    lease: timedelta


def deliver(uow: UnitOfWork, bus: Bus, message_id: str, delivery: Delivery) -> SendOutcome:
    """Send one queued message, at most once per claim. Returns what became of it: sent, held,
    retrying, failed, waiting (quiet hours or the rate limit: not an attempt) or skipped."""
    now = now_utc()
    with uow.begin() as session:
        claim = session.execute(
            update(Message)
            .where(Message.id == message_id, Message.status.in_(MESSAGE_MOVES.sources(MessageStatus.sending)))
            .where((Message.next_attempt_at.is_(None)) | (Message.next_attempt_at <= now))
            .values(
                status=MessageStatus.sending,
                attempts=Message.attempts + 1,
                next_attempt_at=now + delivery.lease,
            )
        )
        if not cast("CursorResult[Any]", claim).rowcount:
            return SendOutcome.skipped  # another worker has it, or it is done
        message = session.get(Message, message_id)
        assert message is not None
        channel = delivery.channels.get(message.channel)
        if channel is None:
            # Nothing to send it with: the message stays in the dev outbox, readable at /outbox.
            message.status, message.next_attempt_at = MessageStatus.held, None
            session.add(Attempt(message_id=message.id, at=now, outcome=SendOutcome.held, error=None))
            _outcome(bus, session, message, "notification.sent", channel=ChannelName.dev_outbox)
            return SendOutcome.held
        # Read here, in the claim's transaction, and before the rate limit spends a token on it.
        stopped = message.channel == ChannelName.sms and session.get(OptOut, message.recipient) is not None
        later = None if stopped else hold_back(message, delivery, now)
        if later is not None:  # not an attempt: hand it back for when it may go
            message.status, message.attempts, message.next_attempt_at = (
                MessageStatus.queued,
                message.attempts - 1,
                later,
            )
            return SendOutcome.waiting
    try:
        if stopped:
            raise DeliveryError("the number replied STOP: no more texts to it", permanent=True)
        provider_id = channel.send(message)
    except DeliveryError as exc:
        with uow.begin() as session:
            message = session.get(Message, message_id)
            assert message is not None
            message.last_error = str(exc)
            if delivery.backoff.gives_up(message.attempts, permanent=exc.permanent):
                message.status, message.next_attempt_at = MessageStatus.failed, None
                session.add(
                    Attempt(message_id=message.id, at=now_utc(), outcome=SendOutcome.failed, error=str(exc))
                )
                _outcome(bus, session, message, "notification.failed", str(exc))
                return SendOutcome.failed
            session.add(
                Attempt(message_id=message.id, at=now_utc(), outcome=SendOutcome.retrying, error=str(exc))
            )
            delay = delivery.backoff.delay(message.attempts, spread=random.random())
            message.status, message.next_attempt_at = MessageStatus.queued, now_utc() + delay
            return SendOutcome.retrying
    # Sent: record it, trying again if the database connection was lost meanwhile (left
    # `sending`, the message would go again once its lease ran out).
    for attempt in range(1, RECORD_SENT_ATTEMPTS + 1):
        try:
            uow.run(record_sent, bus, message_id, provider_id)
            break
        except OperationalError:
            if attempt == RECORD_SENT_ATTEMPTS:
                raise
    return SendOutcome.sent


RECORD_SENT_ATTEMPTS = 3


def record_sent(session: Session, bus: Bus, message_id: str, provider_id: str | None) -> None:
    message = session.get(Message, message_id)
    assert message is not None
    message.status, message.sent_at, message.next_attempt_at = MessageStatus.sent, now_utc(), None
    message.provider_id = provider_id
    session.add(Attempt(message_id=message.id, at=message.sent_at, outcome=SendOutcome.sent, error=None))
    _outcome(bus, session, message, "notification.sent")
    early = session.get(EarlyReceipt, provider_id) if provider_id else None
    if early is not None:  # the provider's receipt overtook this commit
        apply_receipt(session, bus, message, early.status, early.error_code)
        session.delete(early)


def hold_back(message: Message, delivery: Delivery, now: datetime) -> datetime | None:
    """When a text may go, if not now: after the quiet hours (unless urgent), or when the
    provider-wide rate allows its segments (a short wait is waited out here)."""
    if message.channel != ChannelName.sms:
        return None
    if not message.urgent and delivery.quiet_hours is not None:
        later = delivery.quiet_hours.until(now)
        if later is not None:
            return later
    if delivery.sms_limiter is None:
        return None
    try:
        wait: float | None = delivery.sms_limiter.take(message.segments or 1)
        while wait is not None and delivery.rate.waits_here(wait):
            time.sleep(wait)
            wait = delivery.sms_limiter.take(message.segments or 1)
    except redis.RedisError:
        wait = None  # no Redis, no rate
    return delivery.rate.next_try(wait, now)


# -- what the SMS provider tells us about a text we sent (replies are in notify.replies) ------------

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
    statuses (queued, sent) change nothing. A receipt for an id no message has yet (it overtook
    the send's commit) is kept for when it has: False then."""
    message = session.scalar(select(Message).where(Message.provider_id == provider_id))
    if message is None:
        if RECEIPTS.get(status) is not None and session.get(EarlyReceipt, provider_id) is None:
            session.add(
                EarlyReceipt(
                    provider_id=provider_id, status=status, error_code=error_code, received_at=now_utc()
                )
            )
        return False
    apply_receipt(session, bus, message, status, error_code)
    return True


def apply_receipt(session: Session, bus: Bus, message: Message, status: str, error_code: str | None) -> None:
    outcome = RECEIPTS.get(status)
    if outcome is None or not MESSAGE_MOVES.allows(message.status, outcome):
        return  # a step on the way, or an answer we already have (or a late one)
    if outcome == MessageStatus.delivered:
        message.status, message.delivered_at = MessageStatus.delivered, now_utc()
    else:
        message.status = MessageStatus.failed
        message.last_error = f"the SMS provider reports it {status}" + (
            f" (error {error_code})" if error_code else ""
        )
        _outcome(bus, session, message, "notification.failed", message.last_error)


EARLY_RECEIPTS_KEPT = timedelta(days=1)  # longer than any send takes to be recorded


def forget_early_receipts(session: Session) -> None:
    """Receipts still waiting for their send after a day answer nothing of ours."""
    session.execute(delete(EarlyReceipt).where(EarlyReceipt.received_at < now_utc() - EARLY_RECEIPTS_KEPT))


def message_with_history(session: Session, message_id: str) -> Message:
    """One message with every attempt at sending it (loaded, for after the session). NotFound if
    there is no such message."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound("There is no such message.")
    message.history  # load it while the session is open  # noqa: B018
    return message


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
    return int(cast("CursorResult[Any]", result).rowcount)
