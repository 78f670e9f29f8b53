"""dispatch's use cases: register volunteers, match a request to them, offer, take the answer,
expire and escalate. No Flask and no Celery here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.matching import SKILL_FOR_NEED, locate, rank_candidates
from dispatch.models import AvailabilitySlot, Job, Offer, Volunteer, VolunteerArea, VolunteerSkill

__all__ = ["rank_candidates"]  # matching's ranking, used through this module by callers
from hub_shared.bus import Bus, Handler
from hub_shared.events import Event
from hub_shared.schemas import postcode_district
from hub_shared.tokens import LinkSigner

VOLUNTEER_STATUSES = ("applied", "verified", "approved", "active", "paused", "left")
SKILLS = ("shopping", "prescription_collection", "befriending", "dog_walking", "driving")

OFFER_LIFETIME = {"urgent": timedelta(minutes=30), "normal": timedelta(hours=4), "low": timedelta(hours=24)}
MAX_OFFER_ROUNDS = 5
ACTIVE_OFFER_STATUSES = ("offered", "accepted")

OFFER_LINK, TASK_LINK = "offer", "task"
LINK_MAX_AGE = int(timedelta(days=30).total_seconds())  # the offer's own state decides sooner


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Links:
    """Signed links into dispatch's pages, for messages to volunteers."""

    signer: LinkSigner
    base_url: str

    def offer(self, offer_id: str, action: str) -> str:
        return f"{self.base_url}/offers/{self.signer.sign(OFFER_LINK, offer_id)}/{action}"

    def complete(self, offer_id: str) -> str:
        return f"{self.base_url}/tasks/{self.signer.sign(TASK_LINK, offer_id)}/complete"


# -- volunteers ------------------------------------------------------------------------------


def register_volunteer(session: Session, data: dict[str, Any]) -> Volunteer:
    """Add a volunteer (validated by VolunteerIn). Through the API they are active and on duty
    unless the body says otherwise."""
    if session.scalar(select(Volunteer.id).where(Volunteer.email == data["email"])):
        raise Conflict("A volunteer with that email address is already registered.")
    district = postcode_district(data["postcode"])
    latitude, longitude = locate(session, district)
    volunteer = Volunteer(
        id=str(uuid.uuid4()),
        name=data["name"],
        email=data["email"],
        phone=data.get("phone"),
        postcode=data["postcode"],
        district=district,
        latitude=latitude,
        longitude=longitude,
        max_distance_km=data["max_distance_km"],
        dbs_checked=data["dbs_checked"],
        dbs_expires_on=data.get("dbs_expires_on"),
        status=data["status"],
        on_duty=data["on_duty"],
        preferred_channel=data["preferred_channel"],
        languages=",".join(data["languages"]),
        max_active_tasks=data["max_active_tasks"],
        active_tasks=0,
        created_at=now_utc(),
        skills=[VolunteerSkill(skill=skill) for skill in sorted(set(data["skills"]))],
        areas=[VolunteerArea(district=district) for district in sorted(set(data["areas"]))],
        slots=[AvailabilitySlot(**slot) for slot in data["availability"]],
    )
    session.add(volunteer)
    return volunteer


def change_volunteer(session: Session, volunteer_id: str, changes: dict[str, Any]) -> Volunteer:
    """Apply a coordinator's changes (validated by VolunteerChanges)."""
    volunteer = get_volunteer(session, volunteer_id)
    for field, value in changes.items():
        setattr(volunteer, field, value)
    return volunteer


def get_volunteer(session: Session, volunteer_id: str) -> Volunteer:
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound(volunteer_id)
    return volunteer


# -- matching and offering -----------------------------------------------------------------


def receive_request(session: Session, bus: Bus, links: Links, event: Event) -> None:
    """A new request from intake: keep what dispatch needs of it, then match."""
    if session.get(Job, event.request_id) is not None:
        return
    p = event.payload
    requester = p["requester"]
    job = Job(
        request_id=event.request_id,
        reference=p["reference"],
        status="matching",
        need=p["need"],
        urgency=p["urgency"],
        details=p["details"],
        vulnerable=p["vulnerable"],
        requester_name=requester["name"],
        requester_phone=requester.get("phone"),
        postcode=requester["postcode"],
        district=postcode_district(requester["postcode"]),
        address=requester["address"],
        latitude=None,
        longitude=None,
        rounds=0,
        created_at=now_utc(),
    )
    job.latitude, job.longitude = locate(session, job.district)
    session.add(job)
    session.flush()
    if SKILL_FOR_NEED[job.need] is None:
        escalate(session, bus, job, f"a coordinator must triage a request for '{job.need}'")
        return
    offer_next(session, bus, links, job)


def offer_next(session: Session, bus: Bus, links: Links, job: Job) -> Offer | None:
    """Offer the job to the best candidate left, or escalate when there is none."""
    if job.rounds >= MAX_OFFER_ROUNDS:
        escalate(session, bus, job, f"no volunteer accepted after {job.rounds} offers")
        return None
    now = now_utc()
    candidates = rank_candidates(session, job, now)
    bus.publish(
        session,
        "match.ranked",
        {
            "candidates": [
                {"volunteer_id": c.volunteer.id, "rank": rank, "reasons": c.reasons}
                for rank, c in enumerate(candidates[:10], start=1)
            ]
        },
        request_id=job.request_id,
    )
    if not candidates:
        escalate(session, bus, job, "no eligible volunteer is left to ask")
        return None
    volunteer = candidates[0].volunteer
    offer = Offer(
        id=str(uuid.uuid4()),
        request_id=job.request_id,
        volunteer_id=volunteer.id,
        status="offered",
        created_at=now,
        expires_at=now + OFFER_LIFETIME[job.urgency],
    )
    session.add(offer)
    volunteer.active_tasks += 1
    volunteer.last_offered_at = now
    job.status = "offered"
    job.rounds += 1
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
        },
        request_id=job.request_id,
    )
    return offer


def volunteer_ref(volunteer: Volunteer) -> dict[str, Any]:
    return {"id": volunteer.id, "name": volunteer.name, "email": volunteer.email, "phone": volunteer.phone}


def escalate(session: Session, bus: Bus, job: Job, reason: str) -> None:
    job.status = "escalated"
    bus.publish(session, "request.escalated", {"reason": reason}, request_id=job.request_id)


# -- answers ---------------------------------------------------------------------------------


def get_offer(session: Session, offer_id: str) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound(offer_id)
    return offer


SPENT_REASONS = {
    "accepted": "You have already accepted this offer. Thank you.",
    "declined": "You have already declined this offer.",
    "expired": "This offer has expired, so we have asked someone else.",
    "withdrawn": "This offer was withdrawn: someone else is helping.",
    "completed": "This task is already marked as done. Thank you.",
}


def offer_closed_reason(offer: Offer, now: datetime | None = None) -> str | None:
    """Why an offer can no longer be answered, or None if it still can."""
    if offer.status != "offered":
        return SPENT_REASONS.get(offer.status, "This offer is closed.")
    if (now or now_utc()) >= offer.expires_at:
        return SPENT_REASONS["expired"]
    return None


def _transition(session: Session, offer: Offer, *, from_status: str, to: str, **values: Any) -> bool:
    """Move an offer between states atomically: only one caller ever wins a transition. The
    volunteer's count of tasks in hand follows in the same transaction."""
    result = session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == from_status)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    won = result.rowcount == 1  # type: ignore[attr-defined]
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
    """The volunteer said yes. Raises Conflict (with the reason to show) if they no longer can."""
    offer = get_offer(session, offer_id)
    reason = offer_closed_reason(offer)
    if reason:
        raise Conflict(reason)
    try:
        with session.begin_nested():
            won = _transition(session, offer, from_status="offered", to="accepted", answered_at=now_utc())
    except IntegrityError as exc:  # another volunteer's acceptance committed first
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
            "complete_url": links.complete(offer.id),
        },
        request_id=job.request_id,
    )
    return offer


def decline_offer(session: Session, bus: Bus, links: Links, offer_id: str) -> Offer:
    offer = get_offer(session, offer_id)
    reason = offer_closed_reason(offer)
    if reason:
        raise Conflict(reason)
    if not _transition(session, offer, from_status="offered", to="declined", answered_at=now_utc()):
        raise Conflict(offer_closed_reason(offer) or "This offer is closed.")
    payload = {"offer_id": offer.id, "volunteer_id": offer.volunteer_id}
    bus.publish(session, "offer.declined", payload, request_id=offer.request_id)
    offer_next(session, bus, links, offer.job)
    return offer


def complete_task(session: Session, bus: Bus, offer_id: str) -> Offer:
    offer = get_offer(session, offer_id)
    if not _transition(session, offer, from_status="accepted", to="completed", completed_at=now_utc()):
        raise Conflict(SPENT_REASONS.get(offer.status, "This task is not yours to complete."))
    offer.job.status = "completed"
    payload = {"offer_id": offer.id, "volunteer_id": offer.volunteer_id}
    bus.publish(session, "task.completed", payload, request_id=offer.request_id)
    return offer


def expire_offers(session: Session, bus: Bus, links: Links) -> int:
    """The sweep: close offers nobody answered in time and ask the next volunteer."""
    now = now_utc()
    overdue = session.scalars(
        select(Offer).where(Offer.status == "offered", Offer.expires_at <= now).limit(200)
    ).all()
    for offer in overdue:
        if _transition(session, offer, from_status="offered", to="expired", answered_at=now):
            payload = {"offer_id": offer.id, "volunteer_id": offer.volunteer_id}
            bus.publish(session, "offer.expired", payload, request_id=offer.request_id)
            offer_next(session, bus, links, offer.job)
    return len(overdue)


def handlers(bus: Bus, links: Links) -> dict[str, Handler]:
    return {"request.submitted": lambda session, event: receive_request(session, bus, links, event)}
