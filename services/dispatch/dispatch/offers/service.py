"""Offers to volunteers: making one, the volunteer's yes, a task done, and withdrawing. What
happens to the request after a no, a silence or a task given back is routing's (dispatch.flows).
No Flask and no Celery here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.deps import Deps, now_utc
from dispatch.jobs.enums import JobStatus
from dispatch.models import Job, Offer, Volunteer, lock_job, move
from dispatch.offers.enums import ACTIVE, OfferStatus
from dispatch.volunteers.enums import VolunteerStatus
from hub_shared.errors import Conflict, NotFound
from hub_shared.events import OfferAccepted, OfferAnswered, OfferSent, OfferWithdrawn

SPENT_REASONS = {
    OfferStatus.accepted: "You have already accepted this offer. Thank you.",
    OfferStatus.declined: "You have already declined this offer.",
    OfferStatus.expired: "This offer has expired, so we have asked someone else.",
    OfferStatus.withdrawn: "This offer was withdrawn: someone else is helping.",
    OfferStatus.completed: "This task is already marked as done. Thank you.",
    OfferStatus.released: "You gave this task back, so we have asked someone else.",
}


def get_offer(session: Session, offer_id: str) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("This offer no longer exists.")
    return offer


def closed_reason(offer: Offer, now: datetime | None = None) -> str | None:
    """Why an offer can no longer be answered, or None if it still can."""
    if offer.status != OfferStatus.offered:
        return SPENT_REASONS.get(OfferStatus(offer.status), "This offer is closed.")
    if (now or now_utc()) >= offer.expires_at:
        return SPENT_REASONS[OfferStatus.expired]
    return None


def transition(
    session: Session, offer: Offer, *, from_status: OfferStatus, to: OfferStatus, **values: object
) -> bool:
    """Move an offer between states atomically (models.move); the volunteer's count of tasks in
    hand follows in the same transaction."""
    won = move(session, offer, from_status=from_status, to=to, **values)
    if won and from_status in ACTIVE and to not in ACTIVE:
        session.execute(
            update(Volunteer)
            .where(Volunteer.id == offer.volunteer_id)
            .values(active_tasks=Volunteer.active_tasks - 1)
            .execution_options(synchronize_session=False)
        )
        session.refresh(offer)
    return won


def make_offer(session: Session, deps: Deps, job: Job, volunteer: Volunteer, now: datetime) -> Offer:
    offer = Offer(
        id=str(uuid.uuid4()),
        request_id=job.request_id,
        volunteer_id=volunteer.id,
        status=OfferStatus.offered,
        created_at=now,
        expires_at=now + deps.policy.lifetime(job.urgency),
    )
    session.add(offer)
    volunteer.active_tasks += 1
    volunteer.last_offered_at = now
    links = deps.links
    deps.bus.publish(
        session,
        "offer.sent",
        OfferSent(
            offer_id=offer.id,
            reference=job.reference,
            volunteer=volunteer.ref(),
            need=job.need,
            urgency=job.urgency,
            area=job.district,
            expires_at=offer.expires_at,
            accept_url=links.offer(offer.id, "accept"),
            decline_url=links.offer(offer.id, "decline"),
            availability_url=links.availability(volunteer.id),
        ),
        request_id=job.request_id,
    )
    return offer


def accept_offer(session: Session, deps: Deps, offer_id: str) -> Offer:
    """The volunteer said yes. Raises Conflict (with the reason to show) if they no longer can.
    The first of several volunteers to accept wins; the others' offers are withdrawn."""
    offer = get_offer(session, offer_id)
    # One accept per request at a time (PostgreSQL; on SQLite the unit of work holds the write lock), so two
    # simultaneous accepts cannot each withdraw the other's offer and deadlock.
    lock_job(session, offer.request_id)
    reason = closed_reason(offer)
    if reason:
        raise Conflict(reason)
    if offer.volunteer.status != VolunteerStatus.active:
        raise Conflict("You are not taking requests at the moment, so we have asked someone else.")
    try:
        with session.begin_nested():
            won = transition(
                session,
                offer,
                from_status=OfferStatus.offered,
                to=OfferStatus.accepted,
                answered_at=now_utc(),
            )
    except IntegrityError as exc:  # the partial unique index: someone else holds this request
        raise Conflict(SPENT_REASONS[OfferStatus.withdrawn]) from exc
    if not won:
        raise Conflict(closed_reason(offer) or "This offer is closed.")
    job = offer.job
    job.move(JobStatus.assigned)
    deps.bus.publish(
        session,
        "offer.accepted",
        OfferAccepted(
            offer_id=offer.id,
            reference=job.reference,
            volunteer=offer.volunteer.ref(),
            need=job.need,
            details=job.details,
            requester=job.requester(),
            complete_url=deps.links.task(offer.id, "complete"),
            release_url=deps.links.task(offer.id, "release"),
        ),
        request_id=job.request_id,
    )
    others = session.scalars(
        select(Offer).where(
            Offer.request_id == job.request_id, Offer.status == OfferStatus.offered, Offer.id != offer.id
        )
    ).all()
    for other in others:
        withdraw_offer(session, deps, other, "taken")
    return offer


def complete_task(session: Session, deps: Deps, offer_id: str) -> Offer:
    offer = get_offer(session, offer_id)
    if not transition(
        session, offer, from_status=OfferStatus.accepted, to=OfferStatus.completed, completed_at=now_utc()
    ):
        raise Conflict(SPENT_REASONS.get(OfferStatus(offer.status), "This task is not yours to complete."))
    offer.job.move(JobStatus.completed)
    done = OfferAnswered(offer_id=offer.id, volunteer_id=offer.volunteer_id, volunteer=offer.volunteer.ref())
    deps.bus.publish(session, "task.completed", done, request_id=offer.request_id)
    return offer


def withdraw_offer(
    session: Session, deps: Deps, offer: Offer, reason: str, from_status: OfferStatus = OfferStatus.offered
) -> bool:
    """Withdraw an offer if it is still `from_status`, and tell its volunteer why (`reason`, as
    offer.withdrawn names them). Whether this call withdrew it."""
    if not transition(
        session, offer, from_status=from_status, to=OfferStatus.withdrawn, answered_at=now_utc()
    ):
        return False
    withdrawn = OfferWithdrawn(
        offer_id=offer.id, reference=offer.job.reference, volunteer=offer.volunteer.ref(), reason=reason
    )
    deps.bus.publish(session, "offer.withdrawn", withdrawn, request_id=offer.request_id)
    return True
