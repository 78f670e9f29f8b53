"""dispatch's tables: volunteers, its copy of each request (a job), offers, plus its bus tables."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    text,
    update,
)  # fmt: skip
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
    validates,
)

from dispatch.jobs.enums import JOB_MOVES, JobStatus
from dispatch.offers.enums import OFFER_MOVES
from dispatch.referrals.enums import REFERRAL_MOVES
from dispatch.volunteers.enums import VolunteerStatus
from hub_shared.bus import BusModels, DeadLetterMixin, InboxMixin, OutboxMixin, RevokedTokenMixin
from hub_shared.db import UTCDateTime
from hub_shared.events import Contact, VolunteerRef
from hub_shared.idempotency import IdempotencyKeyMixin
from hub_shared.states import Transitions

# Each skill's bit in Volunteer.skill_bits (never renumber: stored in every volunteer's row).
SKILL_BITS = {"shopping": 1, "prescription_collection": 2, "befriending": 4, "dog_walking": 8, "driving": 16}


# The matching index: a place first (band, then longitude), then every column the hard rules
# read, and the id.
MATCHING_INDEX_COLUMNS = (
    "latitude_band", "longitude", "latitude", "max_distance_km", "status", "on_duty",
    "active_tasks", "max_active_tasks", "skill_bits", "has_slots", "dbs_checked",
    "dbs_expires_on", "id",
)  # fmt: skip


def skill_bits(skills: Any) -> int:
    return sum(SKILL_BITS[skill] for skill in set(skills))


def band_of(latitude: float) -> int:
    """The ~1.1 km band of latitude a place is in (indexed with longitude for matching)."""
    return math.floor(latitude * 100)


def latitude_band(latitude: float | None) -> int | None:
    return None if latitude is None else band_of(latitude)


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


class Volunteer(Base):
    __tablename__ = "volunteers"
    __table_args__ = (
        # Matching looks volunteers up by place: one index seek per latitude band the search
        # circle crosses, each a range on longitude (a plain (latitude, longitude) index would
        # scan every longitude in the band: all of southern England for a London request).
        # Every column the hard rules read rides along, and the id, so the database rules on
        # each volunteer inside the index without reading the table (on PostgreSQL an
        # index-only scan); only the chosen few are read in full (docs/performance.md).
        Index("ix_volunteers_matching", *MATCHING_INDEX_COLUMNS),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str] = mapped_column(String(8))
    district: Mapped[str] = mapped_column(String(4), index=True)
    # Where they live, from their postcode district's centroid; None if the district is unknown.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude_band: Mapped[int | None] = mapped_column(Integer)  # floor(latitude * 100): ~1.1 km
    # How far from home they will go; districts in `areas` are covered whatever the distance.
    max_distance_km: Mapped[float] = mapped_column(Float, default=5.0)
    dbs_checked: Mapped[bool] = mapped_column(Boolean, default=False)
    dbs_expires_on: Mapped[date | None] = mapped_column(Date)
    # Copies of `skills` (as SKILL_BITS) and of "has any weekly slot", kept by keep_copies()
    # below, so matching rules on them inside its index instead of probing two more tables.
    skill_bits: Mapped[int] = mapped_column(Integer, default=0)
    has_slots: Mapped[bool] = mapped_column(Boolean, default=False)
    # applied -> verified -> approved -> active; paused or left at any time
    status: Mapped[str] = mapped_column(String(16), default=VolunteerStatus.active, index=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    preferred_channel: Mapped[str] = mapped_column(String(8), default="email")
    # Happy to be offered requests from people they helped before (who asked for the same
    # volunteer): continuity needs both to agree.
    continuity: Mapped[bool] = mapped_column(Boolean, default=True)
    languages: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    max_active_tasks: Mapped[int] = mapped_column(Integer, default=3)
    # Offers out plus tasks accepted and not done: kept with every offer's change of state, so
    # "below their task limit" is a column comparison, not a count, when matching.
    active_tasks: Mapped[int] = mapped_column(Integer, default=0)
    last_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Self sign-up: the consent exactly as it was worded when given, and when the email was
    # proved theirs (a volunteer added by a coordinator or an import has neither).
    consent_wording: Mapped[str | None] = mapped_column(Text)
    consent_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    skills: Mapped[list[VolunteerSkill]] = relationship(
        cascade="all, delete-orphan", order_by="VolunteerSkill.skill", lazy="selectin"
    )
    areas: Mapped[list[VolunteerArea]] = relationship(
        cascade="all, delete-orphan", order_by="VolunteerArea.district", lazy="selectin"
    )
    slots: Mapped[list[AvailabilitySlot]] = relationship(
        cascade="all, delete-orphan",
        order_by="AvailabilitySlot.weekday, AvailabilitySlot.start_minute",
        lazy="selectin",
    )

    @validates("latitude")
    def _keep_band(self, _key: str, latitude: float | None) -> float | None:
        # The band follows the latitude wherever it is set, so matching's index always sees it.
        self.latitude_band = latitude_band(latitude)
        return latitude

    @property
    def skill_names(self) -> list[str]:
        return [s.skill for s in self.skills]

    @property
    def area_names(self) -> list[str]:
        return [a.district for a in self.areas]

    @property
    def language_list(self) -> list[str]:
        return [language for language in self.languages.split(",") if language]

    def ref(self) -> VolunteerRef:
        """The volunteer as events name them, for notify to reach them."""
        return VolunteerRef(
            id=self.id,
            name=self.name,
            email=self.email,
            phone=self.phone,
            channel=self.preferred_channel,
            language=next(iter(self.language_list), None),
        )


def keep_copies_in(sessions: sessionmaker[Session]) -> None:
    """Have dispatch's sessions (and only those) keep each volunteer's matching copies."""
    event.listen(sessions, "before_flush", keep_copies)


def keep_copies(session: Session, _context: Any, _instances: Any) -> None:
    """Before any volunteer is written, bring skill_bits and has_slots in line with their
    skills and slots. Change those through the volunteer's `skills` and `slots` collections (as
    every use case does): a VolunteerSkill or AvailabilitySlot added, deleted or bulk-written on
    its own leaves the copies stale, and matching with them."""
    for volunteer in (*session.new, *session.dirty):
        if not isinstance(volunteer, Volunteer):
            continue
        state = inspect(volunteer)
        changed = state.attrs.skills.history.has_changes() or state.attrs.slots.history.has_changes()
        if volunteer in session.new or changed:  # not for every change of a task count
            volunteer.skill_bits = skill_bits(volunteer.skill_names)
            volunteer.has_slots = bool(volunteer.slots)


class VolunteerSkill(Base):
    __tablename__ = "volunteer_skills"

    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    # Indexed on its own so matching finds everyone with a skill without a scan.
    skill: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class VolunteerArea(Base):
    """A postcode district a volunteer covers, beyond the distance from home they will go."""

    __tablename__ = "volunteer_areas"

    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), primary_key=True)
    district: Mapped[str] = mapped_column(String(4), primary_key=True, index=True)


class AvailabilitySlot(Base):
    """A weekly time a volunteer can help, in Europe/London time. None at all: any time on duty."""

    __tablename__ = "availability_slots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    volunteer_id: Mapped[str] = mapped_column(ForeignKey("volunteers.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # Monday 0 ... Sunday 6
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after midnight
    end_minute: Mapped[int] = mapped_column(Integer)


class PostcodeDistrict(Base):
    """Where a postcode district is (its centroid). Shipped for the example area; an admin can
    import a full directory."""

    __tablename__ = "postcode_districts"

    district: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)


class StoppedRequest(Base):
    """A request stopped (ended or held) before its request.submitted reached dispatch."""

    __tablename__ = "stopped_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # the job's status when it arrives: ended | held
    stopped_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
    # Indexed: continuity finds who helped the same person (by phone) before.
    requester_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    postcode: Mapped[str] = mapped_column(String(8))
    district: Mapped[str] = mapped_column(String(4))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(Text)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    # The requester asked for the same volunteer as before, where possible.
    continuity: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def requester(self) -> Contact:
        """The person helped, as a volunteer or partner who took it gets them."""
        return Contact(
            name=self.requester_name, phone=self.requester_phone, postcode=self.postcode, address=self.address
        )

    def move(self, to: JobStatus) -> None:
        """Change the job's status, as its table (jobs/enums.py) allows; IllegalMove if not."""
        JOB_MOVES.check(self.status, to)
        self.status = to


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


class Referral(Base):
    """A request passed to a partner group, which may accept it or say no."""

    __tablename__ = "referrals"
    __table_args__ = (
        # Never refer one request to the same partner twice.
        UniqueConstraint("request_id", "partner_id", name="uq_referrals_request_partner"),
        # One partner at a time: a request is never with two partners, or waiting on two.
        Index(
            "uq_referrals_one_open",
            "request_id",
            unique=True,
            sqlite_where=text("status IN ('sent', 'accepted', 'completed')"),
            postgresql_where=text("status IN ('sent', 'accepted', 'completed')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("jobs.request_id"), index=True)
    partner_id: Mapped[str] = mapped_column(String(40), index=True)  # an id in the routing file
    # sent -> accepted | rejected | expired; accepted -> completed
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why the partner said no
    day: Mapped[date] = mapped_column(Date)  # the London day whose capacity it counts against
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(lazy="joined")


class PartnerDay(Base):
    """How many referrals a partner holds for one day: taken with a conditional update, so two
    workers can never together push a partner past its capacity."""

    __tablename__ = "partner_days"

    partner_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    referrals: Mapped[int] = mapped_column(Integer, default=0)


# -- how rows change state: the same way for offers and referrals --------------------------------


MOVES: dict[type[Offer | Referral], Transitions[Any]] = {Offer: OFFER_MOVES, Referral: REFERRAL_MOVES}


def move(session: Session, row: Offer | Referral, *, from_status: str, to: str, **values: Any) -> bool:
    """Change a row's status only if it still has `from_status` (a conditional UPDATE): whatever
    the timing of clicks and workers, one caller wins. Returns whether this one did. A move its
    table does not allow is a mistake in the caller: IllegalMove."""
    model = type(row)
    MOVES[model].check(from_status, to)
    result = session.execute(
        update(model)
        .where(model.id == row.id, model.status == from_status)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)
    return result.rowcount == 1  # type: ignore[attr-defined]


def lock_job(session: Session, request_id: str) -> None:
    """Serialise the answers about one request (a row lock on PostgreSQL; on SQLite the unit of
    work already holds the write lock), always taken before the offer or referral it answers,
    so two answers or an answer and the sweep cannot deadlock."""
    session.execute(select(Job.request_id).where(Job.request_id == request_id).with_for_update())
