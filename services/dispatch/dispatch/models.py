"""dispatch's tables: volunteers, its copy of each request (a job), offers, plus its bus tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


class Volunteer(Base):
    __tablename__ = "volunteers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(8))
    district: Mapped[str] = mapped_column(String(4), index=True)
    dbs_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    skills: Mapped[list[VolunteerSkill]] = relationship(
        cascade="all, delete-orphan", order_by="VolunteerSkill.skill", lazy="selectin"
    )

    @property
    def skill_names(self) -> list[str]:
        return [s.skill for s in self.skills]


class VolunteerSkill(Base):
    __tablename__ = "volunteer_skills"

    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    # Indexed on its own so matching finds everyone with a skill without a scan.
    skill: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Job(Base):
    """dispatch's copy of a request: what it needs to match, and to brief who accepts."""

    __tablename__ = "jobs"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)
    need: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    details: Mapped[str] = mapped_column(Text, default="")
    vulnerable: Mapped[bool] = mapped_column(Boolean, default=False)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_phone: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(8))
    district: Mapped[str] = mapped_column(String(4))
    address: Mapped[str] = mapped_column(Text)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        # Never ask the same volunteer twice about one request.
        UniqueConstraint("request_id", "volunteer_id", name="uq_offers_request_volunteer"),
        # Never two volunteers holding one request, whatever the timing of clicks and workers.
        Index(
            "uq_offers_one_assignment",
            "request_id",
            unique=True,
            sqlite_where=text("status IN ('accepted', 'completed')"),
            postgresql_where=text("status IN ('accepted', 'completed')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("jobs.request_id"), index=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), index=True)
    # offered -> accepted | declined | expired | withdrawn; accepted -> completed
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(lazy="joined")
    volunteer: Mapped[Volunteer] = relationship(lazy="joined")
