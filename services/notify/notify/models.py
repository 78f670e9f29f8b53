"""notify's tables: every message, recorded before any attempt to send it, plus its bus tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hub_shared.bus import BusModels, DeadLetterMixin, InboxMixin, OutboxMixin, RevokedTokenMixin
from hub_shared.db import UTCDateTime


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxMixin, Base):
    pass


class InboxEvent(InboxMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


class RevokedToken(RevokedTokenMixin, Base):
    pass


BUS_MODELS = BusModels(
    outbox=OutboxEvent, inbox=InboxEvent, dead_letters=DeadLetter, revoked_tokens=RevokedToken
)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # event id + recipient + template: a redelivered event finds its message already here.
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    template: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # email | sms | webhook
    recipient: Mapped[str] = mapped_column(String(254))  # an email address, a phone, a webhook's URL
    partner_id: Mapped[str | None] = mapped_column(String(40))  # a webhook's: whose secret signs it
    secret_generation: Mapped[int | None] = mapped_column(Integer)  # ... and which of its secrets
    # The offer or referral a reminder is about: its answer cancels the reminder.
    subject_id: Mapped[str | None] = mapped_column(String(36), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # queued -> sending -> sent (-> delivered, from the SMS provider's receipt) | held (dev
    # outbox: no server configured for the channel) | failed; a reminder no longer needed:
    # cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # an SMS sent even in quiet hours
    segments: Mapped[int | None] = mapped_column(Integer)  # an SMS's, as the provider counts them
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the SMS provider's id
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    history: Mapped[list[Attempt]] = relationship(order_by="Attempt.id", viewonly=True)


class EarlyReceipt(Base):
    """A delivery receipt for a provider id no message has yet: the provider called back before
    the send was recorded. Applied when it is (service.deliver), so no receipt is lost."""

    __tablename__ = "early_receipts"

    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reply(Base):
    """A text a volunteer sent the hub (through the SMS provider's inbound webhook)."""

    __tablename__ = "replies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)  # a replayed webhook is seen
    sender: Mapped[str] = mapped_column(String(20), index=True)  # E.164, as the provider gives it
    body: Mapped[str] = mapped_column(Text)
    keyword: Mapped[str] = mapped_column(String(8))  # yes | no | done | stop | other
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OptOut(Base):
    """A number that replied STOP: it gets no more texts from the hub."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Requester(Base):
    """How to reach someone who asked for help, kept only if they agreed to updates."""

    __tablename__ = "requesters"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    address: Mapped[str] = mapped_column(String(254))  # their mobile or email address
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Attempt(Base):
    """One try at sending a message, and what came of it: every attempt is kept."""

    __tablename__ = "message_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # sent | held | retrying | failed
    error: Mapped[str | None] = mapped_column(Text)


class Coordinator(Base):
    """Someone with the coordinator role in intake, told of escalations and concerns."""

    __tablename__ = "coordinators"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
