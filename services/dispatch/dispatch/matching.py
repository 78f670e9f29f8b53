"""Who may be offered a request, and in what order.

Hard rules are conditions in the SQL query, never broken: the skill the need requires; a DBS
check that has not expired where the need or the person's vulnerability calls for one; an
active volunteer, on duty and inside one of their weekly slots (none set: any time); below
their task limit; not already asked about this request; and within reach (a district they
cover, or no further from home than they said they would go).

The query returns the nearest few hundred who pass, by an index on place. They are then scored
in Python: distance, plus a penalty for work in hand and for offers in the last week, so work
spreads across everyone eligible instead of always going to the nearest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from dispatch.models import (
    AvailabilitySlot,
    Job,
    Offer,
    PostcodeDistrict,
    Volunteer,
    VolunteerArea,
    VolunteerSkill,
)

LONDON = ZoneInfo("Europe/London")

# The shipped routing (PRODUCT.md): the skill each need requires. `other` has none: a
# coordinator triages it. Food parcels go to shoppers until partner referrals exist.
SKILL_FOR_NEED: dict[str, str | None] = {
    "shopping": "shopping",
    "prescription": "prescription_collection",
    "befriending": "befriending",
    "dog_walking": "dog_walking",
    "transport": "driving",
    "food_parcel": "shopping",
    "other": None,
}
DBS_REQUIRED_FOR = frozenset({"befriending"})

MAX_REACH_KM = 25.0  # the most anyone may set as max_distance_km; bounds the search box
SHORTLIST = 200  # how many of the nearest eligible volunteers are scored
KM_PER_TASK_IN_HAND = 3.0  # fairness: a task in hand counts as this much further away
KM_PER_RECENT_OFFER = 2.0  # ... and so does each offer made to them in the last week
RECENT = timedelta(days=7)
KM_PER_DEGREE_LATITUDE = 110.574


def km_per_degree_longitude(latitude: float) -> float:
    return 111.320 * math.cos(math.radians(latitude))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (latitude, longitude) points; equirectangular, fine within a region."""
    dy = (a[0] - b[0]) * KM_PER_DEGREE_LATITUDE
    dx = (a[1] - b[1]) * km_per_degree_longitude((a[0] + b[0]) / 2)
    return math.hypot(dx, dy)


def locate(session: Session, district: str) -> tuple[float | None, float | None]:
    """A postcode district's centroid, or (None, None) if the directory does not know it."""
    place = session.get(PostcodeDistrict, district)
    return (place.latitude, place.longitude) if place else (None, None)


def needs_dbs(job: Job) -> bool:
    return job.need in DBS_REQUIRED_FOR or job.vulnerable


def dbs_valid(volunteer: Volunteer, today: date) -> bool:
    return volunteer.dbs_checked and (volunteer.dbs_expires_on is None or volunteer.dbs_expires_on >= today)


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    score: float
    distance_km: float | None
    recent_offers: int
    reasons: list[str]


def eligible(session: Session, job: Job, now: datetime, limit: int = SHORTLIST) -> list[Volunteer]:
    """The nearest volunteers who pass every hard rule (the SQL does the ruling)."""
    skill = SKILL_FOR_NEED[job.need]
    if skill is None:
        return []
    local = now.astimezone(LONDON)
    minute = local.hour * 60 + local.minute
    slot = select(AvailabilitySlot.id).where(AvailabilitySlot.volunteer_id == Volunteer.id)
    in_a_slot = slot.where(
        AvailabilitySlot.weekday == local.weekday(),
        AvailabilitySlot.start_minute <= minute,
        AvailabilitySlot.end_minute > minute,
    )
    conditions = [
        VolunteerSkill.skill == skill,
        Volunteer.status == "active",
        Volunteer.on_duty,
        Volunteer.active_tasks < Volunteer.max_active_tasks,
        Volunteer.id.not_in(select(Offer.volunteer_id).where(Offer.request_id == job.request_id)),
        or_(~exists(slot), exists(in_a_slot)),
    ]
    if needs_dbs(job):
        conditions += [
            Volunteer.dbs_checked,
            or_(Volunteer.dbs_expires_on.is_(None), Volunteer.dbs_expires_on >= local.date()),
        ]
    covers = Volunteer.id.in_(
        select(VolunteerArea.volunteer_id).where(VolunteerArea.district == job.district)
    )
    query = select(Volunteer).join(VolunteerSkill, VolunteerSkill.volunteer_id == Volunteer.id)
    if job.latitude is None or job.longitude is None:
        # The directory does not know where the request is: its own district, or who covers it.
        return list(
            session.scalars(
                query.where(*conditions, or_(covers, Volunteer.district == job.district))
                .order_by(Volunteer.active_tasks, Volunteer.created_at)
                .limit(limit)
            )
        )
    lat, lon = job.latitude, job.longitude
    kx, ky = km_per_degree_longitude(lat), KM_PER_DEGREE_LATITUDE
    dy = (Volunteer.latitude - lat) * ky
    dx = (Volunteer.longitude - lon) * kx
    distance_squared = dy * dy + dx * dx
    in_box = and_(
        Volunteer.latitude.between(lat - MAX_REACH_KM / ky, lat + MAX_REACH_KM / ky),
        Volunteer.longitude.between(lon - MAX_REACH_KM / kx, lon + MAX_REACH_KM / kx),
    )
    within_reach = and_(in_box, distance_squared <= Volunteer.max_distance_km * Volunteer.max_distance_km)
    return list(
        session.scalars(
            query.where(*conditions, or_(within_reach, covers))
            .order_by(func.coalesce(distance_squared, MAX_REACH_KM * MAX_REACH_KM))
            .limit(limit)
        )
    )


def rank_candidates(session: Session, job: Job, now: datetime) -> list[Candidate]:
    """Eligible volunteers, best first, each with the reasons a coordinator reads."""
    volunteers = eligible(session, job, now)
    if not volunteers:
        return []
    recent = dict(
        session.execute(
            select(Offer.volunteer_id, func.count())
            .where(Offer.volunteer_id.in_([v.id for v in volunteers]), Offer.created_at >= now - RECENT)
            .group_by(Offer.volunteer_id)
        ).all()
    )
    here = (job.latitude, job.longitude) if job.latitude is not None and job.longitude is not None else None
    candidates = []
    for volunteer in volunteers:
        home = (volunteer.latitude, volunteer.longitude) if volunteer.latitude is not None else None
        km = distance_km(here, home) if here and home else None  # type: ignore[arg-type]
        offers = recent.get(volunteer.id, 0)
        score = (km if km is not None else MAX_REACH_KM) + (
            KM_PER_TASK_IN_HAND * volunteer.active_tasks + KM_PER_RECENT_OFFER * offers
        )
        reasons = [
            f"has the {SKILL_FOR_NEED[job.need]} skill",
            f"{km:.1f} km from home" if km is not None else f"covers {job.district}",
            f"{volunteer.active_tasks} task(s) in hand of {volunteer.max_active_tasks}",
            f"{offers} offer(s) in the last week",
        ]
        if job.district in volunteer.area_names:
            reasons.append(f"covers {job.district}")
        if needs_dbs(job):
            reasons.append("DBS check valid")
        candidates.append(Candidate(volunteer, score, km, offers, reasons))
    candidates.sort(key=lambda c: (c.score, c.volunteer.created_at))
    return candidates
