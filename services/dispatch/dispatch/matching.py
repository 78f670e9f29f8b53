"""Who may be offered a request, and in what order.

Hard rules are conditions in the SQL query, never broken: the skill the need requires; a DBS
check that has not expired where the need or the person's vulnerability calls for one; an
active volunteer, on duty and inside one of their weekly slots (none set: any time); below
their task limit; not already asked about this request; and within reach (a district they
cover, or no further from home than they said they would go).

The query returns the nearest fifty who pass, by an index on place (a small circle first,
widened only while it holds too few), plus anyone who covers the district and, when both
agreed to it, whoever helped this person before. They are then scored in Python: distance,
plus a penalty for work in hand and for offers in the last week, so work spreads across
everyone eligible instead of always going to the nearest; minus a bonus for continuity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnExpressionArgument,
    Date,
    Float,
    Integer,
    Select,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, lazyload

from dispatch.models import (
    SKILL_BITS,
    AvailabilitySlot,
    Job,
    Offer,
    PostcodeDistrict,
    Volunteer,
    VolunteerArea,
    band_of,
)
from dispatch.offers.enums import OfferStatus
from dispatch.routing import Routing
from dispatch.rules import RequestFacts, Slot, VolunteerFacts, broken_rules
from dispatch.scoring import (
    KM_PER_DEGREE_LATITUDE,
    MAX_REACH_KM,
    Facts,
    distance_km,
    km_per_degree_longitude,
    reasons,
    score,
)
from dispatch.volunteers.enums import VolunteerStatus

LONDON = ZoneInfo("Europe/London")

SHORTLIST = 50  # how many of the nearest eligible volunteers are scored
FIRST_RADIUS_KM = 1.0  # the first circle searched, widened while it holds too few
RADIUS_GROWTH = 4.0  # when nobody was found: 1, 4, 16, 25 km
RECENT = timedelta(days=7)  # offers this recent count against a volunteer's score


def locate(session: Session, district: str) -> tuple[float | None, float | None]:
    """A postcode district's centroid, or (None, None) if the directory does not know it."""
    place = session.get(PostcodeDistrict, district)
    return (place.latitude, place.longitude) if place else (None, None)


def needs_dbs(job: Job, routing: Routing) -> bool:
    return routing.needs_dbs(job.need, job.vulnerable)


def dbs_valid(volunteer: Volunteer, today: date) -> bool:
    return volunteer.dbs_checked and (volunteer.dbs_expires_on is None or volunteer.dbs_expires_on >= today)


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    score: float
    distance_km: float | None
    recent_offers: int
    reasons: list[str]


def eligible(
    session: Session, job: Job, now: datetime, limit: int = SHORTLIST, *, routing: Routing
) -> list[Volunteer]:
    """The nearest volunteers who pass every hard rule (the SQL does the ruling)."""
    skill = routing.rule(job.need).skill
    if skill is None:
        return []
    local = now.astimezone(LONDON)
    params: dict[str, object] = {
        "skill_bit": SKILL_BITS[skill],
        "request_id": job.request_id,
        "weekday": local.weekday(),
        "minute": local.hour * 60 + local.minute,
        "today": local.date(),
        "district": job.district,
        "limit": limit,
    }
    dbs = needs_dbs(job, routing)
    if job.latitude is None or job.longitude is None:
        # The directory does not know where the request is: its own district, or who covers it.
        return load(session, list(session.scalars(statements(dbs).in_district, params)))
    # Those who cover the district, wherever they live (few: an index on district finds them).
    found = dict.fromkeys(session.scalars(statements(dbs).covering, params))
    # The nearest within reach: search a small circle first and widen it only while it holds
    # fewer than `limit`, so a dense city costs no more than a village (index on place).
    lat = job.latitude
    params |= {
        "lat": lat,
        "lon": job.longitude,
        "kx": km_per_degree_longitude(lat),
        "ky": KM_PER_DEGREE_LATITUDE,
    }
    radius = FIRST_RADIUS_KM
    while True:
        dlat = radius / KM_PER_DEGREE_LATITUDE
        params |= {
            "radius_squared": radius * radius,
            "dlat": dlat,
            "dlon": radius / km_per_degree_longitude(lat),
            "bands": list(range(band_of(lat - dlat), band_of(lat + dlat) + 1)),
        }
        nearest = list(session.scalars(statements(dbs).nearest, params))
        if len(nearest) >= limit or radius >= MAX_REACH_KM:
            break
        # Widen to where, at the density just seen, `limit` should be found (at least x2).
        growth = math.sqrt(limit / len(nearest)) * 1.2 if nearest else RADIUS_GROWTH
        radius = min(radius * max(growth, 2.0), MAX_REACH_KM)
    found |= dict.fromkeys(nearest)
    if wants_continuity(job):
        # Whoever helped this person before, if still within reach, however many are nearer.
        found |= dict.fromkeys(
            session.scalars(statements(dbs).helped_before, params | {"phone": job.requester_phone})
        )
    return load(session, list(found))


def load(session: Session, ids: list[str]) -> list[Volunteer]:
    """The chosen volunteers in full (the rules were applied to ids only, inside the index)."""
    if not ids:
        return []
    volunteers = session.scalars(
        select(Volunteer)
        .where(Volunteer.id.in_(ids))
        .options(lazyload(Volunteer.skills), lazyload(Volunteer.areas), lazyload(Volunteer.slots))
    )
    by_id = {volunteer.id: volunteer for volunteer in volunteers}
    return [by_id[i] for i in ids if i in by_id]


def wants_continuity(job: Job) -> bool:
    """The requester asked for the same volunteer where possible (and can be recognised)."""
    return job.continuity and job.requester_phone is not None


def helped_before(phone: object, request_id: object) -> Select[str]:
    """Volunteers who completed a task for the requester with this phone (another request)."""
    return (
        select(Offer.volunteer_id)
        .join(Job, Job.request_id == Offer.request_id)
        .where(
            Job.requester_phone == phone, Offer.status == OfferStatus.completed, Job.request_id != request_id
        )
    )


@dataclass(frozen=True)
class Statements:
    """Each gives the ids of volunteers who pass every hard rule."""

    in_district: Select[str]
    covering: Select[str]
    nearest: Select[str]
    helped_before: Select[str]


@cache
def statements(dbs_required: bool) -> Statements:
    """The matching queries, built once with bound parameters: building SQLAlchemy statements
    costs more than running them, and a match runs up to five."""
    rules = hard_rules(dbs_required)
    # Ids only: every column the rules read is in the matching index (PostgreSQL can answer
    # from the index alone); load() reads the chosen ones in full.
    volunteers = select(Volunteer.id)
    covers = Volunteer.id.in_(
        select(VolunteerArea.volunteer_id).where(VolunteerArea.district == bindparam("district"))
    )
    lat, lon = bindparam("lat", type_=Float), bindparam("lon", type_=Float)
    dy = (Volunteer.latitude - lat) * bindparam("ky", type_=Float)
    dx = (Volunteer.longitude - lon) * bindparam("kx", type_=Float)
    distance_squared = dy * dy + dx * dx
    dlat, dlon = bindparam("dlat", type_=Float), bindparam("dlon", type_=Float)
    limit = bindparam("limit", type_=Integer)
    return Statements(
        in_district=volunteers.where(*rules, or_(covers, Volunteer.district == bindparam("district")))
        .order_by(Volunteer.active_tasks, Volunteer.created_at)
        .limit(limit),
        covering=volunteers.where(*rules, covers).limit(limit),
        nearest=volunteers.where(
            *rules,
            Volunteer.latitude_band.in_(bindparam("bands", expanding=True)),
            Volunteer.latitude.between(lat - dlat, lat + dlat),
            Volunteer.longitude.between(lon - dlon, lon + dlon),
            distance_squared <= bindparam("radius_squared", type_=Float),
            distance_squared <= Volunteer.max_distance_km * Volunteer.max_distance_km,
        )
        .order_by(distance_squared)
        .limit(limit),
        helped_before=volunteers.where(
            *rules,
            Volunteer.continuity,
            Volunteer.id.in_(helped_before(bindparam("phone"), bindparam("request_id"))),
            or_(covers, distance_squared <= Volunteer.max_distance_km * Volunteer.max_distance_km),
        ),
    )


def hard_rules(dbs_required: bool) -> list[ColumnExpressionArgument[bool]]:
    """The conditions nobody is offered a request without (parameters: skill_bit, request_id,
    weekday and minute in London, today)."""
    slot = select(AvailabilitySlot.id).where(AvailabilitySlot.volunteer_id == Volunteer.id)
    in_a_slot = slot.where(
        AvailabilitySlot.weekday == bindparam("weekday"),
        AvailabilitySlot.start_minute <= bindparam("minute"),
        AvailabilitySlot.end_minute > bindparam("minute"),
    )
    asked = select(Offer.volunteer_id).where(Offer.request_id == bindparam("request_id"))
    rules: list[ColumnExpressionArgument[bool]] = [
        Volunteer.status == VolunteerStatus.active,
        Volunteer.on_duty,
        Volunteer.active_tasks < Volunteer.max_active_tasks,
        Volunteer.skill_bits.op("&")(bindparam("skill_bit", type_=Integer)) != 0,  # has the skill
        Volunteer.id.not_in(asked),
        # No weekly slots: any time on duty. Only those with slots cost a look at them.
        or_(~Volunteer.has_slots, exists(in_a_slot)),
    ]
    if dbs_required:
        rules += [
            Volunteer.dbs_checked,
            or_(
                Volunteer.dbs_expires_on.is_(None), Volunteer.dbs_expires_on >= bindparam("today", type_=Date)
            ),
        ]
    return rules


def rank_candidates(session: Session, job: Job, now: datetime, *, routing: Routing) -> list[Candidate]:
    """Eligible volunteers, best first, each with the reasons a coordinator reads: the facts
    SQL finds about each, scored by dispatch.scoring."""
    volunteers = eligible(session, job, now, routing=routing)
    if not volunteers:
        return []
    ids = [v.id for v in volunteers]
    covering = set(
        session.scalars(
            select(VolunteerArea.volunteer_id).where(
                VolunteerArea.district == job.district, VolunteerArea.volunteer_id.in_(ids)
            )
        )
    )
    recent = dict(
        session.execute(
            select(Offer.volunteer_id, func.count())
            .where(Offer.volunteer_id.in_(ids), Offer.created_at >= now - RECENT)
            .group_by(Offer.volunteer_id)
        ).all()
    )
    known_before = (
        set(
            session.scalars(
                helped_before(job.requester_phone, job.request_id).where(Offer.volunteer_id.in_(ids))
            )
        )
        if wants_continuity(job)
        else set()
    )
    here = (job.latitude, job.longitude) if job.latitude is not None and job.longitude is not None else None
    skill, dbs = routing.rule(job.need).skill, needs_dbs(job, routing)
    candidates = []
    for volunteer in volunteers:
        lat, lon = volunteer.latitude, volunteer.longitude
        home = (lat, lon) if lat is not None and lon is not None else None
        facts = Facts(
            distance_km=distance_km(here, home) if here is not None and home is not None else None,
            active_tasks=volunteer.active_tasks,
            max_active_tasks=volunteer.max_active_tasks,
            recent_offers=recent.get(volunteer.id, 0),
            covers_district=volunteer.id in covering,
            helped_before=volunteer.id in known_before and volunteer.continuity,
        )
        why = reasons(facts, skill=skill, district=job.district, dbs_checked=dbs)
        candidates.append(Candidate(volunteer, score(facts), facts.distance_km, facts.recent_offers, why))
    candidates.sort(key=lambda c: (c.score, c.volunteer.created_at))
    return candidates


def broken_rules_for(
    session: Session, job: Job, volunteer: Volunteer, now: datetime, routing: Routing
) -> list[str]:
    """The hard rules (dispatch.rules) this volunteer fails for the job, from their full record:
    the check made before an offer goes out, behind the query's."""
    asked = session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(Offer.request_id == job.request_id, Offer.volunteer_id == volunteer.id)
    )
    lat, lon = volunteer.latitude, volunteer.longitude
    facts = VolunteerFacts(
        status=volunteer.status,
        on_duty=volunteer.on_duty,
        active_tasks=volunteer.active_tasks,
        max_active_tasks=volunteer.max_active_tasks,
        skills=frozenset(volunteer.skill_names),
        dbs_checked=volunteer.dbs_checked,
        dbs_expires_on=volunteer.dbs_expires_on,
        slots=tuple(Slot(s.weekday, s.start_minute, s.end_minute) for s in volunteer.slots),
        asked_already=bool(asked),
        district=volunteer.district,
        areas=frozenset(volunteer.area_names),
        home=(lat, lon) if lat is not None and lon is not None else None,
        max_distance_km=volunteer.max_distance_km,
    )
    place = (job.latitude, job.longitude) if job.latitude is not None and job.longitude is not None else None
    request = RequestFacts(
        skill=routing.rule(job.need).skill,
        dbs_required=needs_dbs(job, routing),
        district=job.district,
        place=place,
    )
    return broken_rules(facts, request, now)
