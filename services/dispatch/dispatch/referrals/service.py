"""Referrals: a request passed to a partner group, which takes it or says no (partners are
equals, not sub-contractors). sent -> accepted | rejected | expired; accepted -> completed.

These use cases keep the records, the partner's daily capacity and the events; where a request
goes after a "no" or no answer is routing's decision (dispatch.flows). No Flask, no Celery.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.deps import Deps, now_utc
from dispatch.jobs.enums import JobStatus
from dispatch.models import Job, PartnerDay, Referral, lock_job, move
from dispatch.referrals.enums import ReferralStatus
from dispatch.routing import Partner, Routing
from hub_shared.errors import Conflict, NotFound
from hub_shared.events import PartnerRef, ReferralAccepted, ReferralAnswered, ReferralSent

LONDON = ZoneInfo("Europe/London")

SPENT_REASONS = {
    ReferralStatus.accepted: "You have already accepted this referral. Thank you.",
    ReferralStatus.rejected: "You have already turned this referral down, so it has gone elsewhere.",
    ReferralStatus.expired: "This referral has expired, so it has gone elsewhere.",
    ReferralStatus.completed: "This referral is already marked as done. Thank you.",
}


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def take_capacity(session: Session, partner: Partner, day: date) -> bool:
    """Count one referral against the partner's day if it has room. A conditional update, so
    concurrent workers can never together pass the partner's capacity."""
    if partner.capacity_per_day <= 0:
        return False
    room = PartnerDay.referrals < partner.capacity_per_day
    take = (
        update(PartnerDay)
        .where(PartnerDay.partner_id == partner.id, PartnerDay.day == day, room)
        .values(referrals=PartnerDay.referrals + 1)
        .execution_options(synchronize_session=False)
    )
    if session.execute(take).rowcount:  # type: ignore[attr-defined]
        return True
    if session.get(PartnerDay, (partner.id, day)) is not None:
        return False  # full for today
    try:
        with session.begin_nested():  # the day's first referral
            session.add(PartnerDay(partner_id=partner.id, day=day, referrals=1))
        return True
    except IntegrityError:  # another worker made the day's row first: take from it
        return bool(session.execute(take).rowcount)  # type: ignore[attr-defined]


def give_back_capacity(session: Session, referral: Referral) -> None:
    """A referral the partner did not take does not count against its day."""
    session.execute(
        update(PartnerDay)
        .where(PartnerDay.partner_id == referral.partner_id, PartnerDay.day == referral.day)
        .values(referrals=PartnerDay.referrals - 1)
        .execution_options(synchronize_session=False)
    )


def refer(
    session: Session, deps: Deps, job: Job, now: datetime, lifetime: timedelta, only: str | None = None
) -> Referral | None:
    """Refer the job to the first partner (in the routing file's order) that takes its need in
    its district, has room today and has not had it before; None if there is no such partner.
    It has the partner's time to answer, or `lifetime` (the request's urgency) if shorter.
    `only`: the partner a coordinator chose, whatever its needs and areas."""
    tried = set(session.scalars(select(Referral.partner_id).where(Referral.request_id == job.request_id)))
    routing = deps.policy.routing
    partners = [routing.partners[only]] if only else routing.partners_for(job.need, job.district)
    for partner in partners:
        if partner.id in tried or not take_capacity(session, partner, london_day(now)):
            continue
        referral = Referral(
            id=str(uuid.uuid4()),
            request_id=job.request_id,
            partner_id=partner.id,
            status=ReferralStatus.sent,
            day=london_day(now),
            created_at=now,
            expires_at=now + min(partner.answer_within, lifetime),
        )
        session.add(referral)
        session.flush()
        job.move(JobStatus.referred)
        links = deps.links
        deps.bus.publish(
            session,
            "referral.sent",
            ReferralSent(
                referral_id=referral.id,
                reference=job.reference,
                partner=partner.ref(),
                need=job.need,
                urgency=job.urgency,
                area=job.district,
                expires_at=referral.expires_at,
                accept_url=links.referral(referral.id, "accept"),
                reject_url=links.referral(referral.id, "reject"),
                api_url=links.referral_api(referral.id),
            ),
            request_id=job.request_id,
        )
        return referral
    return None


def get_referral(session: Session, referral_id: str, partner_id: str | None = None) -> Referral:
    """A referral, for its partner (partner_id) or a coordinator (None); NotFound otherwise
    (another partner's is never shown)."""
    referral = session.get(Referral, referral_id)
    if referral is None or (partner_id is not None and referral.partner_id != partner_id):
        raise NotFound("There is no such referral.")
    return referral


def closed_reason(referral: Referral, now: datetime, action: str = "accept") -> str | None:
    """Why a partner can no longer `action` (accept, reject, complete) a referral, or None."""
    status = ReferralStatus(referral.status)
    if action == "complete":
        if status == ReferralStatus.sent:
            return "Accept this referral before marking it done."
        return None if status == ReferralStatus.accepted else SPENT_REASONS.get(status)
    if status != ReferralStatus.sent:
        return SPENT_REASONS.get(status, "This referral is closed.")
    if now >= referral.expires_at:
        return SPENT_REASONS[ReferralStatus.expired]
    return None


def accept_referral(session: Session, deps: Deps, referral: Referral) -> Referral:
    """The partner takes it: it gets the requester's details and a link to mark it done.
    Conflict (with the reason) if it no longer can."""
    lock_job(session, referral.request_id)
    now = now_utc()
    reason = closed_reason(referral, now)
    sent, accepted = ReferralStatus.sent, ReferralStatus.accepted
    if reason or not move(session, referral, from_status=sent, to=accepted, answered_at=now):
        raise Conflict(reason or closed_reason(referral, now) or "This referral is closed.")
    job = referral.job
    deps.bus.publish(
        session,
        "referral.accepted",
        ReferralAccepted(
            referral_id=referral.id,
            reference=job.reference,
            partner=partner_ref(deps.policy.routing, referral.partner_id),
            need=job.need,
            details=job.details,
            requester=job.requester(),
            complete_url=deps.links.referral(referral.id, "complete"),
        ),
        request_id=job.request_id,
    )
    return referral


def reject(session: Session, deps: Deps, referral: Referral, reason: str) -> Referral:
    """The partner says no, with a reason (Conflict if it no longer can); the caller sends the
    request onward."""
    lock_job(session, referral.request_id)
    now = now_utc()
    closed = closed_reason(referral, now)
    if closed or not move(
        session,
        referral,
        from_status=ReferralStatus.sent,
        to=ReferralStatus.rejected,
        answered_at=now,
        reason=reason,
    ):
        raise Conflict(closed or closed_reason(referral, now) or "This referral is closed.")
    give_back_capacity(session, referral)
    rejected = ReferralAnswered(referral_id=referral.id, partner_id=referral.partner_id, reason=reason)
    deps.bus.publish(session, "referral.rejected", rejected, request_id=referral.request_id)
    return referral


def complete_referral(session: Session, deps: Deps, referral: Referral) -> Referral:
    """The partner says the help was given. Conflict (with the reason) if it cannot say so."""
    now = now_utc()
    if not move(
        session, referral, from_status=ReferralStatus.accepted, to=ReferralStatus.completed, completed_at=now
    ):
        raise Conflict(closed_reason(referral, now, "complete") or "This referral is closed.")
    referral.job.move(JobStatus.completed)
    completed = ReferralAnswered(referral_id=referral.id, partner_id=referral.partner_id)
    deps.bus.publish(session, "referral.completed", completed, request_id=referral.request_id)
    return referral


def expire_due(session: Session, deps: Deps, now: datetime, limit: int = 200) -> list[Referral]:
    """Close referrals nobody answered in time; the caller sends each request onward."""
    overdue = session.scalars(
        select(Referral)
        .where(Referral.status == ReferralStatus.sent, Referral.expires_at <= now)
        .limit(limit)
    ).all()
    expired = []
    for referral in overdue:
        # The job first, as the answers lock it, so an answer and the sweep never deadlock.
        lock_job(session, referral.request_id)
        if move(
            session, referral, from_status=ReferralStatus.sent, to=ReferralStatus.expired, answered_at=now
        ):
            give_back_capacity(session, referral)
            answer = ReferralAnswered(referral_id=referral.id, partner_id=referral.partner_id)
            deps.bus.publish(session, "referral.expired", answer, request_id=referral.request_id)
            expired.append(referral)
    return expired


def partner_ref(routing: Routing, partner_id: str) -> PartnerRef:
    """The partner as events name it; one taken out of the routing file since is still named."""
    partner = routing.partners.get(partner_id)
    if partner is None:
        raise Conflict("This partner group is no longer in the hub's list. Call the hub.")
    return partner.ref()
