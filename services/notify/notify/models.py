"""notify's tables: every message, recorded before any attempt to send it, plus its bus tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hub_shared.bus import BusModels, DeadLetterMixin, InboxMixin, OutboxMixin
from hub_shared.db import UTCDateTime


class Base(DeclarativeBase):
    pass


class OutboxEvent(OutboxMixin, Base):
    pass


class InboxEvent(InboxMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


BUS_MODELS = BusModels(outbox=OutboxEvent, inbox=InboxEvent, dead_letters=DeadLetter)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # event id + recipient + template: a redelivered event finds its message already here.
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    template: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    recipient: Mapped[str] = mapped_column(String(254))  # an email address, or a webhook's URL
    partner_id: Mapped[str | None] = mapped_column(String(40))  # a webhook's: whose secret signs it
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # queued -> sending -> sent | held (dev outbox: no SMTP configured) | failed
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
