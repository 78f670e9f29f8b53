"""intake's tables: requests for help and their timelines, plus its bus tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hub_shared.bus import BusModels, DeadLetterMixin, InboxMixin, OutboxMixin, RevokedTokenMixin
from hub_shared.db import UTCDateTime
from hub_shared.idempotency import IdempotencyKeyMixin


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


class IdempotencyKey(IdempotencyKeyMixin, Base):
    """Keys of creating requests, and what each made (hub_shared.idempotency)."""


BUS_MODELS = BusModels(
    outbox=OutboxEvent, inbox=InboxEvent, dead_letters=DeadLetter, revoked_tokens=RevokedToken
)


class HelpRequest(Base):
    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_requester_address", "requester_postcode", "requester_address"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    need: Mapped[str] = mapped_column(String(32), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text, default="")
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    safeguarding: Mapped[bool] = mapped_column(Boolean, default=False)  # a concern: coordinators told
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    requester_email: Mapped[str | None] = mapped_column(String(254))
    requester_postcode: Mapped[str] = mapped_column(String(8), index=True)
    requester_address: Mapped[str] = mapped_column(Text)
    consent_data_processing: Mapped[bool] = mapped_column(Boolean)
    consent_same_volunteer: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_updates: Mapped[bool] = mapped_column(Boolean, default=False)  # messages to the requester
    consent_wording: Mapped[str | None] = mapped_column(Text)  # what was read to them, as they agreed
    # Someone who called for them (a relative, a neighbour, a GP practice): never the requester's.
    caller_name: Mapped[str | None] = mapped_column(String(200))
    caller_relation: Mapped[str | None] = mapped_column(String(100))
    caller_contact: Mapped[str | None] = mapped_column(String(254))
    # When dispatch made the ranking kept in `candidates` (a late, older one is ignored).
    ranked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    district: Mapped[str] = mapped_column(String(4), index=True)  # the postcode's outward code
    ward: Mapped[str | None] = mapped_column(String(120))  # from the ward lookup, once imported
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # help should have come by then
    # First moments someone took it on and it was done, for the council's times to assign and complete.
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    helped_by: Mapped[str | None] = mapped_column(String(120))  # "volunteers" or a partner group's name
    # When the event that set the current status happened: events can arrive out of order,
    # and an older one must not overwrite a newer status.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When anything last happened to it, for the reconciliation sweep.
    last_progress_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="request", order_by="TimelineEntry.at, TimelineEntry.id"
    )
    candidates: Mapped[list[Candidate]] = relationship(
        order_by="Candidate.rank", cascade="all, delete-orphan", lazy="selectin"
    )


class TimelineEntry(Base):
    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(254))  # the hub's person who did it (None: a service)

    request: Mapped[HelpRequest] = relationship(back_populates="timeline")


class RequestLook(Base):
    """Someone opened a request's page (its personal details): kept for audit, and shown to
    whoever else opens it soon after, so two coordinators do not work one request unawares."""

    __tablename__ = "request_looks"
    __table_args__ = (Index("ix_request_looks_request_id_at", "request_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"))
    person_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Candidate(Base):
    """A volunteer in dispatch's latest ranking for a request, with the reasons, for coordinators."""

    __tablename__ = "candidates"

    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36))
    volunteer_name: Mapped[str | None] = mapped_column(String(200))
    reasons: Mapped[str] = mapped_column(Text)  # one per line

    @property
    def reason_list(self) -> list[str]:
        return self.reasons.splitlines()


class Person(Base):
    """Someone who signs in: a coordinator, a council officer, an admin, or a partner group's
    worker (scoped to its partner). There are no default accounts: `hub users create` adds one."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | coordinator | council | partner
    partner: Mapped[str | None] = mapped_column(String(40))  # a partner's id in the routing file
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id; None until they set one
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)  # since the last success
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PasswordLink(Base):
    """A one-time link to set a password: the link carries only this row's nonce, and setting
    the password spends it (a signed link alone could be used again)."""

    __tablename__ = "password_links"

    nonce: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An API token intake issued (`hub token create`): its id, what it is for and its role;
    never the token itself, which only its holder keeps."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the token's `tid`
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    partner: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WardLookup(Base):
    """Which ward a postcode is in, for the council's dashboard (`hub wards import`)."""

    __tablename__ = "ward_lookup"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)  # normalised: KT1 1EU
    ward: Mapped[str] = mapped_column(String(120))
