"""dispatch's use cases: register volunteers; route each request to volunteers, partners or
the coordinators as the routing file says; offer, take the answer, refer, expire and escalate.
No Flask and no Celery here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import referrals
from dispatch.matching import locate, rank_candidates
from dispatch.models import (
    AvailabilitySlot,
    Job,
    Offer,
    Referral,
    StoppedRequest,
    Volunteer,
    VolunteerArea,
    VolunteerSkill,
    lock_job,
    move,
)  # fmt: skip
from dispatch.routing import SHIPPED_ROUTING, SKILLS, Routing, routing_from_env
from dispatch.urls import AVAILABILITY_LINK, OFFER_LINK, TASK_LINK, VOLUNTEER_LINK, Links
from hub_shared.bus import Bus, Handler
from hub_shared.errors import Conflict, NotFound
from hub_shared.events import Event
from hub_shared.schemas import postcode_district

# Also reached through this module: matching's ranking, the skills and the signed links.
__all__ = [
    "AVAILABILITY_LINK",
    "OFFER_LINK",
    "SKILLS",
    "TASK_LINK",
    "VOLUNTEER_LINK",
    "Links",
    "rank_candidates",
]

VOLUNTEER_STATUSES = ("applied", "verified", "approved", "active", "paused", "left")


@dataclass(frozen=True)
class Policy:
    """How dispatch routes and offers work: the shipped defaults, changed through the
    environment and the routing file (HUB_ROUTING_FILE)."""

    offers_at_once: int = 1  # several: the first to accept wins, the others are withdrawn
    max_rounds: int = 5  # rounds of offers before a coordinator is asked to step in
    offer_lifetime: tuple[tuple[str, timedelta], ...] = (
        ("urgent", timedelta(minutes=30)),
        ("normal", timedelta(hours=4)),
        ("low", timedelta(hours=24)),
    )
    routing: Routing = SHIPPED_ROUTING

    def lifetime(self, urgency: str) -> timedelta:
        return dict(self.offer_lifetime)[urgency]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Policy:
        """Read HUB_OFFERS_AT_ONCE, HUB_MAX_OFFER_ROUNDS, HUB_OFFER_SECONDS ("urgent:1800,normal:14400")."""
        lifetimes = dict(cls.offer_lifetime)
        for part in filter(None, env.get("HUB_OFFER_SECONDS", "").split(",")):
            urgency, _, seconds = part.partition(":")
            if urgency.strip() not in lifetimes:
                raise ValueError(f"HUB_OFFER_SECONDS names an unknown urgency: {urgency!r}")
            lifetimes[urgency.strip()] = timedelta(seconds=float(seconds))
        return cls(
            offers_at_once=int(env.get("HUB_OFFERS_AT_ONCE", cls.offers_at_once)),
            max_rounds=int(env.get("HUB_MAX_OFFER_ROUNDS", cls.max_rounds)),
            offer_lifetime=tuple(lifetimes.items()),
            routing=routing_from_env(env),
        )


DEFAULT_POLICY = Policy()
ACTIVE_OFFER_STATUSES = ("offered", "accepted")

SIGN_UP_CONSENT = (
    "I agree that the Community Help Hub keeps my name, contact details, postcode and skills "
    "to offer me requests for help, and shares my name with the people I help. I can ask for "
    "my details to be removed at any time."
)
LINK_MAX_AGE = int(timedelta(days=30).total_seconds())  # the offer's own state decides sooner


def now_utc() -> datetime:
    return datetime.now(UTC)


# -- volunteers ------------------------------------------------------------------------------


def register_volunteer(session: Session, data: dict[str, Any]) -> Volunteer:
    """Add a volunteer (validated by VolunteerIn). Through the API they are active and on duty
    unless the body says otherwise."""
    if session.scalar(select(Volunteer.id).where(Volunteer.email == data["email"])):
        raise Conflict("A volunteer with that email address is already registered.")
    volunteer = Volunteer(
        id=str(uuid.uuid4()), active_tasks=0, created_at=now_utc(), skills=[], areas=[], slots=[]
    )
    _apply_profile(session, volunteer, data, set(data))
    session.add(volunteer)
    return volunteer


PROFILE_COLUMNS = (
    "name", "email", "phone", "dbs_checked", "dbs_expires_on", "status", "on_duty",
    "preferred_channel", "continuity", "max_active_tasks", "max_distance_km",
)  # fmt: skip


def _apply_profile(session: Session, volunteer: Volunteer, data: dict[str, Any], given: set[str]) -> bool:
    """Set the profile fields named in `given` from validated data; return whether any changed."""
    wanted: dict[str, Any] = {field: data[field] for field in PROFILE_COLUMNS if field in given}
    if "postcode" in given:
        district = postcode_district(data["postcode"])
        wanted |= {"postcode": data["postcode"], "district": district}
        wanted["latitude"], wanted["longitude"] = locate(session, district)
    if "languages" in given:
        wanted["languages"] = ",".join(data["languages"])
    changed = False
    for field, value in wanted.items():
        if getattr(volunteer, field, None) != value:
            setattr(volunteer, field, value)
            changed = True
    if "skills" in given and volunteer.skill_names != sorted(set(data["skills"])):
        volunteer.skills = [VolunteerSkill(skill=skill) for skill in sorted(set(data["skills"]))]
        changed = True
    if "areas" in given and volunteer.area_names != sorted(set(data["areas"])):
        volunteer.areas = [VolunteerArea(district=district) for district in sorted(set(data["areas"]))]
        changed = True
    if "availability" in given:
        slots = sorted((s["weekday"], s["start_minute"], s["end_minute"]) for s in data["availability"])
        if sorted((s.weekday, s.start_minute, s.end_minute) for s in volunteer.slots) != slots:
            volunteer.slots = [AvailabilitySlot(weekday=w, start_minute=a, end_minute=b) for w, a, b in slots]
            changed = True
    return changed


def upsert_volunteer(session: Session, data: dict[str, Any], given: set[str]) -> str:
    """Create or update a volunteer found by email, else by phone (for imports, which may run
    twice). Only the fields given change. Returns created, updated or unchanged."""
    volunteer = session.scalar(select(Volunteer).where(Volunteer.email == data["email"]))
    if volunteer is None and data.get("phone"):
        volunteer = session.scalar(select(Volunteer).where(Volunteer.phone == data["phone"]).limit(1))
    if volunteer is None:
        register_volunteer(session, data)
        return "created"
    return "updated" if _apply_profile(session, volunteer, data, given) else "unchanged"


def sign_up(session: Session, bus: Bus, links: Links, data: dict[str, Any]) -> Volunteer | None:
    """A volunteer signs themselves up (validated by SignUpIn): recorded as applied, with the
    consent's wording, and sent a link to verify their email. Someone already registered gets
    nothing new (and the page says the same either way: it must not reveal who volunteers)."""
    if session.scalar(select(Volunteer.id).where(Volunteer.email == data["email"])):
        return None
    now = now_utc()
    volunteer = register_volunteer(session, data | {"status": "applied", "on_duty": False})
    volunteer.consent_wording, volunteer.consent_given_at = SIGN_UP_CONSENT, now
    session.flush()
    payload = {"volunteer": volunteer_ref(volunteer), "verify_url": links.verify(volunteer.id)}
    bus.publish(session, "volunteer.signed_up", payload)
    return volunteer


def verify_email(session: Session, volunteer_id: str) -> Volunteer:
    """The volunteer opened the link we emailed and confirmed: applied becomes verified, for a
    coordinator to approve."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("We no longer have this sign-up.")
    if volunteer.email_verified_at is None:
        volunteer.email_verified_at = now_utc()
    if volunteer.status == "applied":
        volunteer.status = "verified"
    return volunteer


def change_own_availability(
    session: Session,
    bus: Bus,
    links: Links,
    volunteer_id: str,
    *,
    on_duty: bool,
    paused: bool,
    max_active_tasks: int,
    slots: list[dict[str, int]] | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Volunteer:
    """A volunteer changes their own availability through their signed link: on duty, weekly
    slots (None: unchanged), how many at once, a pause. Pausing and resuming only moves between
    active and paused: it never approves anyone."""
    volunteer = get_volunteer(session, volunteer_id)
    if slots is not None:
        _apply_profile(session, volunteer, {"availability": slots}, {"availability"})
    volunteer.on_duty, volunteer.max_active_tasks = on_duty, max_active_tasks
    if volunteer.status == "active" and paused:
        change_status(session, bus, links, volunteer_id, "pause", policy=policy)
    elif volunteer.status == "paused" and not paused:
        change_status(session, bus, links, volunteer_id, "resume", policy=policy)
    return volunteer


# What a coordinator (or, for pause, resume and leave, the volunteer) may do to a status, from
# which statuses: applied -> verified (email) -> approved -> active; paused or left at any time.
STATUS_ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"applied", "verified"}), "approved"),
    "activate": (frozenset({"approved"}), "active"),
    "pause": (frozenset({"active"}), "paused"),
    "resume": (frozenset({"paused"}), "active"),
    "leave": (frozenset({"applied", "verified", "approved", "active", "paused"}), "left"),
}


def change_status(
    session: Session,
    bus: Bus,
    links: Links,
    volunteer_id: str,
    action: str,
    *,
    policy: Policy = DEFAULT_POLICY,
) -> Volunteer:
    """Move a volunteer along their lifecycle; Conflict (saying why) if the action does not
    apply to their status. Someone pausing or leaving has their open offers withdrawn (those
    requests go on to the next volunteer); someone leaving also gives back accepted tasks."""
    volunteer = get_volunteer(session, volunteer_id)
    allowed, to = STATUS_ACTIONS[action]
    if volunteer.status not in allowed:
        raise Conflict(f"A volunteer who is {volunteer.status} cannot be moved to {to}.")
    volunteer.status = to
    step_back(session, bus, links, volunteer, policy=policy)
    return volunteer


def step_back(session: Session, bus: Bus, links: Links, volunteer: Volunteer, *, policy: Policy) -> None:
    """Whoever is no longer active has the offers waiting for them withdrawn (those requests go
    on); whoever left also gives back the tasks they accepted."""
    if volunteer.status == "active":
        return
    volunteer_id = volunteer.id
    open_offers = session.scalars(
        select(Offer).where(Offer.volunteer_id == volunteer_id, Offer.status == "offered")
    ).all()
    for offer in open_offers:
        if withdraw_offer(session, bus, offer, "stepped_back"):
            route(session, bus, links, offer.job, policy=policy)
    if volunteer.status == "left":
        held = session.scalars(
            select(Offer.id).where(Offer.volunteer_id == volunteer_id, Offer.status == "accepted")
        ).all()
        for offer_id in held:
            release_task(session, bus, links, offer_id, "the volunteer stopped volunteering", policy=policy)
    session.refresh(volunteer)


def change_volunteer(
    session: Session,
    bus: Bus,
    links: Links,
    volunteer_id: str,
    changes: dict[str, Any],
    *,
    policy: Policy = DEFAULT_POLICY,
) -> Volunteer:
    """Apply a coordinator's changes (validated by VolunteerChanges). The API may set any status
    (a coordinator correcting a record); leaving `active` has the same effects as on the pages."""
    volunteer = get_volunteer(session, volunteer_id)
    for field, value in changes.items():
        setattr(volunteer, field, value)
    if changes.get("status", "active") != "active":
        step_back(session, bus, links, volunteer, policy=policy)
    return volunteer


def get_volunteer(session: Session, volunteer_id: str) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("There is no volunteer with that id.")
    return volunteer


# -- matching and offering -----------------------------------------------------------------


def receive_request(
    session: Session, bus: Bus, links: Links, event: Event, *, policy: Policy = DEFAULT_POLICY
) -> None:
    """A new request from intake: keep what dispatch needs of it, then match."""
    if session.get(Job, event.request_id) is not None:
        return
    job = Job(
        request_id=event.request_id,
        reference=event.payload["reference"],
        status="matching",
        rounds=0,
        created_at=now_utc(),
    )
    copy_request(session, job, event.payload)
    session.add(job)
    session.flush()
    stopped = session.get(StoppedRequest, job.request_id)
    if stopped is not None:  # cancelled, closed or held before it reached us: nobody is asked
        job.status = stopped.status
        return
    route(session, bus, links, job, policy=policy)


def copy_request(session: Session, job: Job, payload: dict[str, Any]) -> None:
    """Keep what dispatch needs of a request (request.submitted, or request.updated after an
    edit) in its job; the place again only if the postcode changed."""
    requester = payload["requester"]
    job.need, job.urgency, job.details = payload["need"], payload["urgency"], payload["details"]
    job.vulnerable, job.continuity = payload["vulnerable"], payload["continuity"]
    job.requester_name, job.requester_phone = requester["name"], requester.get("phone")
    job.address = requester["address"]
    if requester["postcode"] != job.postcode:
        job.postcode, job.district = requester["postcode"], postcode_district(requester["postcode"])
        job.latitude, job.longitude = locate(session, job.district)


def update_job(session: Session, event: Event) -> None:
    """A coordinator edited the request: keep dispatch's copy current (what later offers and
    referrals say, and the details the next volunteer or partner gets). Who has it keeps it."""
    job = session.get(Job, event.request_id) if event.request_id else None
    if job is not None:
        copy_request(session, job, event.payload)


def route(session: Session, bus: Bus, links: Links, job: Job, *, policy: Policy = DEFAULT_POLICY) -> None:
    """Send a request to its next stop, in the routing file's order (a partner first, or
    volunteers first, then the other), and to the coordinators when neither can take it.
    Called again after every "no" or silence: who was asked before is never asked again."""
    stages = policy.routing.stages(job.need)
    if not stages:
        escalate(session, bus, job, f"a coordinator must triage a request for '{job.need}'")
        return
    why_not = []
    for stage in stages:
        if stage == "partners":
            lifetime = policy.lifetime(job.urgency)
            if referrals.refer(session, bus, links, job, policy.routing, now_utc(), lifetime):
                return
            why_not.append("no partner group could take it")
        else:
            reason = offer_next(session, bus, links, job, policy=policy)
            if reason is None:
                return
            why_not.append(reason)
    escalate(session, bus, job, "; ".join(why_not))


def offer_next(
    session: Session, bus: Bus, links: Links, job: Job, *, policy: Policy = DEFAULT_POLICY
) -> str | None:
    """Send a round of offers to the best candidates left (as many as the policy keeps out at
    once). Returns None while volunteers have it (offers out), else why no volunteer can."""
    open_offers = session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(Offer.request_id == job.request_id, Offer.status == "offered")
    )
    wanted = policy.offers_at_once - (open_offers or 0)
    if wanted <= 0:
        return None
    if job.rounds >= policy.max_rounds:
        return None if open_offers else f"no volunteer accepted after {job.rounds} round(s) of offers"
    now = now_utc()
    candidates = rank_candidates(session, job, now, routing=policy.routing)
    bus.publish(
        session,
        "match.ranked",
        {
            "candidates": [
                {"volunteer_id": c.volunteer.id, "name": c.volunteer.name, "rank": rank, "reasons": c.reasons}
                for rank, c in enumerate(candidates[:10], start=1)
            ]
        },
        request_id=job.request_id,
    )
    if not candidates:
        return None if open_offers else "no eligible volunteer is left to ask"
    job.status = "offered"
    job.rounds += 1
    for candidate in candidates[:wanted]:
        make_offer(session, bus, links, job, candidate.volunteer, now, policy)
    return None


def make_offer(
    session: Session, bus: Bus, links: Links, job: Job, volunteer: Volunteer, now: datetime, policy: Policy
) -> Offer:
    offer = Offer(
        id=str(uuid.uuid4()),
        request_id=job.request_id,
        volunteer_id=volunteer.id,
        status="offered",
        created_at=now,
        expires_at=now + policy.lifetime(job.urgency),
    )
    session.add(offer)
    volunteer.active_tasks += 1
    volunteer.last_offered_at = now
    bus.publish(
        session,
        "offer.sent",
        {
            "offer_id": offer.id,
            "reference": job.reference,
            "volunteer": volunteer_ref(volunteer),
            "need": job.need,
            "urgency": job.urgency,
            "area": job.district,
            "expires_at": offer.expires_at,
            "accept_url": links.offer(offer.id, "accept"),
            "decline_url": links.offer(offer.id, "decline"),
            "availability_url": links.availability(volunteer.id),
        },
        request_id=job.request_id,
    )
    return offer


def volunteer_ref(volunteer: Volunteer) -> dict[str, Any]:
    return {
        "id": volunteer.id,
        "name": volunteer.name,
        "email": volunteer.email,
        "phone": volunteer.phone,
        "channel": volunteer.preferred_channel,
        "language": (volunteer.language_list or [None])[0],
    }


def escalate(session: Session, bus: Bus, job: Job, reason: str) -> None:
    job.status = "escalated"
    payload = {"reason": reason, "reference": job.reference}
    bus.publish(session, "request.escalated", payload, request_id=job.request_id)


# -- answers ---------------------------------------------------------------------------------


def get_offer(session: Session, offer_id: str) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("This offer no longer exists.")
    return offer


SPENT_REASONS = {
    "accepted": "You have already accepted this offer. Thank you.",
    "declined": "You have already declined this offer.",
    "expired": "This offer has expired, so we have asked someone else.",
    "withdrawn": "This offer was withdrawn: someone else is helping.",
    "completed": "This task is already marked as done. Thank you.",
    "released": "You gave this task back, so we have asked someone else.",
}


def offer_closed_reason(offer: Offer, now: datetime | None = None) -> str | None:
    """Why an offer can no longer be answered, or None if it still can."""
    if offer.status != "offered":
        return SPENT_REASONS.get(offer.status, "This offer is closed.")
    if (now or now_utc()) >= offer.expires_at:
        return SPENT_REASONS["expired"]
    return None


def _transition(session: Session, offer: Offer, *, from_status: str, to: str, **values: Any) -> bool:
    """Move an offer between states atomically (models.move); the volunteer's count of tasks in
    hand follows in the same transaction."""
    won = move(session, offer, from_status=from_status, to=to, **values)
    if won and from_status in ACTIVE_OFFER_STATUSES and to not in ACTIVE_OFFER_STATUSES:
        session.execute(
            update(Volunteer)
            .where(Volunteer.id == offer.volunteer_id)
            .values(active_tasks=Volunteer.active_tasks - 1)
            .execution_options(synchronize_session=False)
        )
        session.refresh(offer)
    return won


def accept_offer(session: Session, bus: Bus, links: Links, offer_id: str) -> Offer:
    """The volunteer said yes. Raises Conflict (with the reason to show) if they no longer can.
    The first of several volunteers to accept wins; the others' offers are withdrawn."""
    offer = get_offer(session, offer_id)
    # One accept per request at a time (PostgreSQL; SQLite serialises writers anyway), so two
    # simultaneous accepts cannot each withdraw the other's offer and deadlock.
    lock_job(session, offer.request_id)
    reason = offer_closed_reason(offer)
    if reason:
        raise Conflict(reason)
    if offer.volunteer.status != "active":
        raise Conflict("You are not taking requests at the moment, so we have asked someone else.")
    try:
        with session.begin_nested():
            won = _transition(session, offer, from_status="offered", to="accepted", answered_at=now_utc())
    except IntegrityError as exc:  # the partial unique index: someone else holds this request
        raise Conflict(SPENT_REASONS["withdrawn"]) from exc
    if not won:
        raise Conflict(offer_closed_reason(offer) or "This offer is closed.")
    job = offer.job
    job.status = "assigned"
    bus.publish(
        session,
        "offer.accepted",
        {
            "offer_id": offer.id,
            "reference": job.reference,
            "volunteer": volunteer_ref(offer.volunteer),
            "need": job.need,
            "details": job.details,
            "requester": {
                "name": job.requester_name,
                "phone": job.requester_phone,
                "postcode": job.postcode,
                "address": job.address,
            },
            "complete_url": links.task(offer.id, "complete"),
            "release_url": links.task(offer.id, "release"),
        },
        request_id=job.request_id,
    )
    others = session.scalars(
        select(Offer).where(
            Offer.request_id == job.request_id, Offer.status == "offered", Offer.id != offer.id
        )
    ).all()
    for other in others:
        withdraw_offer(session, bus, other, "taken")
    return offer


def decline_offer(
    session: Session, bus: Bus, links: Links, offer_id: str, *, policy: Policy = DEFAULT_POLICY
) -> Offer:
    offer = get_offer(session, offer_id)
    reason = offer_closed_reason(offer)
    if reason:
        raise Conflict(reason)
    if not _transition(session, offer, from_status="offered", to="declined", answered_at=now_utc()):
        raise Conflict(offer_closed_reason(offer) or "This offer is closed.")
    payload = {"offer_id": offer.id, "volunteer_id": offer.volunteer_id}
    bus.publish(session, "offer.declined", payload, request_id=offer.request_id)
    route(session, bus, links, offer.job, policy=policy)
    return offer


def complete_task(session: Session, bus: Bus, offer_id: str) -> Offer:
    offer = get_offer(session, offer_id)
    if not _transition(session, offer, from_status="accepted", to="completed", completed_at=now_utc()):
        raise Conflict(SPENT_REASONS.get(offer.status, "This task is not yours to complete."))
    offer.job.status = "completed"
    payload = {
        "offer_id": offer.id,
        "volunteer_id": offer.volunteer_id,
        "volunteer": volunteer_ref(offer.volunteer),
    }
    bus.publish(session, "task.completed", payload, request_id=offer.request_id)
    return offer


def release_task(
    session: Session, bus: Bus, links: Links, offer_id: str, reason: str, *, policy: Policy = DEFAULT_POLICY
) -> Offer:
    """A volunteer who accepted can no longer do it: the task goes back to matching."""
    offer = get_offer(session, offer_id)
    if not _transition(session, offer, from_status="accepted", to="released", completed_at=now_utc()):
        raise Conflict(SPENT_REASONS.get(offer.status, "This task is not yours to give back."))
    job = offer.job
    job.status = "matching"
    payload = {"offer_id": offer.id, "volunteer_id": offer.volunteer_id, "reason": reason}
    bus.publish(session, "task.released", payload, request_id=job.request_id)
    route(session, bus, links, job, policy=policy)
    return offer


def expire_offers(session: Session, bus: Bus, links: Links, *, policy: Policy = DEFAULT_POLICY) -> int:
    """The sweep: close offers nobody answered in time and ask the next volunteer."""
    now = now_utc()
    overdue = session.scalars(
        select(Offer).where(Offer.status == "offered", Offer.expires_at <= now).limit(200)
    ).all()
    for offer in overdue:
        if _transition(session, offer, from_status="offered", to="expired", answered_at=now):
            payload = {"offer_id": offer.id, "volunteer_id": offer.volunteer_id}
            bus.publish(session, "offer.expired", payload, request_id=offer.request_id)
            route(session, bus, links, offer.job, policy=policy)
    return len(overdue)


# -- referrals -------------------------------------------------------------------------------


def partner_referral(session: Session, referral_id: str, partner_id: str | None = None) -> Referral:
    """A referral, for its partner (partner_id) or a coordinator (None); NotFound otherwise."""
    referral = referrals.get_referral(session, referral_id, partner_id)
    if referral is None:
        raise NotFound("There is no such referral.")
    return referral


def accept_referral(
    session: Session, bus: Bus, links: Links, referral: Referral, *, policy: Policy = DEFAULT_POLICY
) -> Referral:
    """The partner takes the request. Raises Conflict (with the reason) if it no longer can."""
    lock_job(session, referral.request_id)
    try:
        return referrals.accept(session, bus, links, referral, policy.routing, now_utc())
    except referrals.ReferralClosed as exc:
        raise Conflict(str(exc)) from exc


def reject_referral(
    session: Session,
    bus: Bus,
    links: Links,
    referral: Referral,
    reason: str,
    *,
    policy: Policy = DEFAULT_POLICY,
) -> Referral:
    """The partner says no (it may): the request goes on to its next stop."""
    lock_job(session, referral.request_id)
    try:
        referrals.reject(session, bus, referral, reason, now_utc())
    except referrals.ReferralClosed as exc:
        raise Conflict(str(exc)) from exc
    route(session, bus, links, referral.job, policy=policy)
    return referral


def complete_referral(session: Session, bus: Bus, referral: Referral) -> Referral:
    try:
        return referrals.complete(session, bus, referral, now_utc())
    except referrals.ReferralClosed as exc:
        raise Conflict(str(exc)) from exc


def expire_referrals(session: Session, bus: Bus, links: Links, *, policy: Policy = DEFAULT_POLICY) -> int:
    """The sweep: referrals nobody answered in time go on to the request's next stop."""
    expired = referrals.expire_due(session, bus, now_utc())
    for referral in expired:
        route(session, bus, links, referral.job, policy=policy)
    return len(expired)


# -- answers by text ---------------------------------------------------------------------------

OFFER_STATUS_FOR = {"yes": "offered", "no": "offered", "done": "accepted"}


def answer_by_text(
    session: Session, bus: Bus, links: Links, event: Event, *, policy: Policy = DEFAULT_POLICY
) -> str:
    """A volunteer's SMS reply (from notify), matched to the sender's number and their most
    recent open offer (YES, NO) or accepted task (DONE), never to anything written in it. STOP
    moves them to email. An answer that no longer applies changes nothing. Returns what it did."""
    phone, keyword = event.payload["phone"], event.payload["keyword"]
    volunteers = session.scalars(select(Volunteer).where(Volunteer.phone == phone)).all()
    if not volunteers:
        return "unknown sender"
    if keyword == "stop":
        for volunteer in volunteers:
            volunteer.preferred_channel = "email"
        return "moved to email"
    if keyword not in OFFER_STATUS_FOR:
        return "nothing to do"
    offer = session.scalars(
        select(Offer)
        .where(Offer.volunteer_id.in_([v.id for v in volunteers]), Offer.status == OFFER_STATUS_FOR[keyword])
        .order_by(Offer.created_at.desc())
        .limit(1)
    ).first()
    if offer is None:
        return "no open offer or task"
    try:
        if keyword == "yes":
            accept_offer(session, bus, links, offer.id)
        elif keyword == "no":
            decline_offer(session, bus, links, offer.id, policy=policy)
        else:
            complete_task(session, bus, offer.id)
    except Conflict:
        return "too late"  # expired or taken meanwhile
    return keyword


def withdraw_offer(
    session: Session, bus: Bus, offer: Offer, reason: str, from_status: str = "offered"
) -> bool:
    """Withdraw an offer if it is still `from_status`, and tell its volunteer why (`reason`, as
    offer.withdrawn names them). Whether this call withdrew it."""
    if not _transition(session, offer, from_status=from_status, to="withdrawn", answered_at=now_utc()):
        return False
    payload = {
        "offer_id": offer.id,
        "reference": offer.job.reference,
        "volunteer": volunteer_ref(offer.volunteer),
        "reason": reason,
    }
    bus.publish(session, "offer.withdrawn", payload, request_id=offer.request_id)
    return True


def withdraw_all(session: Session, bus: Bus, job: Job, reason: str, *, policy: Policy) -> None:
    """Withdraw the request's offers waiting or accepted (each volunteer told why) and its
    referrals sent or held (each partner told, its place for the day given back)."""
    active_offers = select(Offer).where(
        Offer.request_id == job.request_id, Offer.status.in_(ACTIVE_OFFER_STATUSES)
    )
    for offer in session.scalars(active_offers).all():
        withdraw_offer(session, bus, offer, reason, from_status=offer.status)
    active_referrals = select(Referral).where(
        Referral.request_id == job.request_id, Referral.status.in_(referrals.ACTIVE_STATUSES)
    )
    for referral in session.scalars(active_referrals).all():
        if move(session, referral, from_status=referral.status, to="withdrawn", answered_at=now_utc()):
            referrals.give_back_capacity(session, referral)
            payload = {
                "referral_id": referral.id,
                "reference": job.reference,
                "partner": referrals.partner_ref(policy.routing, referral.partner_id),
                "reason": reason,
            }
            bus.publish(session, "referral.withdrawn", payload, request_id=job.request_id)


def end_request(
    session: Session, bus: Bus, event: Event, *, held: bool = False, policy: Policy = DEFAULT_POLICY
) -> None:
    """A coordinator cancelled, closed or held the request: nobody is asked about it any more
    (until it is reopened)."""
    if event.request_id is None:
        return
    job = session.get(Job, event.request_id)
    if job is None:  # it has not arrived yet: when it does, it stays stopped
        if session.get(StoppedRequest, event.request_id) is None:
            status = "held" if held else "ended"
            session.add(StoppedRequest(request_id=event.request_id, status=status, stopped_at=now_utc()))
        return
    lock_job(session, job.request_id)
    job.status = "held" if held else "ended"
    withdraw_all(session, bus, job, "on_hold" if held else "cancelled", policy=policy)


def reopen_job(
    session: Session, bus: Bus, links: Links, event: Event, *, policy: Policy = DEFAULT_POLICY
) -> None:
    """A coordinator reopened the request: look for help again, past whoever was asked before."""
    job = session.get(Job, event.request_id) if event.request_id else None
    if job is None:
        stopped = session.get(StoppedRequest, event.request_id) if event.request_id else None
        if stopped is not None:
            session.delete(stopped)  # when it arrives, it is matched as any other
        return
    lock_job(session, job.request_id)
    session.refresh(job)
    if job.status not in ("ended", "held", "completed", "escalated"):
        return  # someone still has it, or is being asked
    job.status, job.rounds = "matching", 0
    route(session, bus, links, job, policy=policy)


def send_to(
    session: Session,
    bus: Bus,
    links: Links,
    request_id: str,
    *,
    volunteer_id: str | None = None,
    partner_id: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    """A coordinator reassigns a request: whoever has it or was asked is stood down, then the
    chosen volunteer (one the hard rules allow) is offered it, or the chosen partner group is
    referred it (if it has room today)."""
    job = session.get(Job, request_id)
    if job is None:
        raise NotFound("dispatch has no open request with that id.")
    lock_job(session, request_id)
    session.refresh(job)  # as it is now that this transaction holds it
    if job.status in ("ended", "held"):
        raise Conflict(
            f"It is {'on hold' if job.status == 'held' else 'cancelled or closed'}: reopen it first."
        )
    now = now_utc()
    if volunteer_id is not None:
        allowed = {
            c.volunteer.id: c.volunteer for c in rank_candidates(session, job, now, routing=policy.routing)
        }
        if volunteer_id not in allowed:
            raise Conflict("That volunteer cannot take it now (the hard rules, or they were asked already).")
        withdraw_all(session, bus, job, "reassigned", policy=policy)
        job.status = "offered"
        make_offer(session, bus, links, job, allowed[volunteer_id], now, policy)
        return
    partner = policy.routing.partners.get(partner_id or "")
    if partner is None:
        raise Conflict("Choose a partner group from the list.")
    withdraw_all(session, bus, job, "reassigned", policy=policy)
    lifetime = policy.lifetime(job.urgency)
    if referrals.refer(session, bus, links, job, policy.routing, now, lifetime, only=partner.id) is None:
        raise Conflict(f"{partner.name} has no room today, or has had this request before.")


def handlers(bus: Bus, links: Links, policy: Policy = DEFAULT_POLICY) -> dict[str, Handler]:
    return {
        "request.updated": lambda session, event: update_job(session, event),
        "request.cancelled": lambda session, event: end_request(session, bus, event, policy=policy),
        "request.closed": lambda session, event: end_request(session, bus, event, policy=policy),
        "request.held": lambda session, event: end_request(session, bus, event, held=True, policy=policy),
        "request.reopened": lambda session, event: reopen_job(session, bus, links, event, policy=policy),
        "request.submitted": lambda session, event: receive_request(
            session, bus, links, event, policy=policy
        ),
        "reply.received": lambda session, event: answer_by_text(session, bus, links, event, policy=policy),
    }
