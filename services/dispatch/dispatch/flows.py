"""What crosses dispatch's features: where a request goes next (volunteers, a partner, or the
coordinators), and the answers after which it goes on (a no, a silence, a task given back, a
referral turned down); withdrawing everything a request has out; a volunteer stepping back.
The features' own use cases are in volunteers/, offers/, referrals/ and jobs/. No Flask, no
Celery here."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.deps import Deps, now_utc
from dispatch.jobs.enums import JobStatus
from dispatch.matching import broken_rules_for, rank_candidates
from dispatch.models import Job, Offer, Referral, Volunteer, move
from dispatch.offers.enums import ACTIVE as ACTIVE_OFFERS
from dispatch.offers.enums import OfferStatus
from dispatch.offers.service import (
    SPENT_REASONS,
    accept_offer,
    closed_reason,
    complete_task,
    get_offer,
    make_offer,
    transition,
    withdraw_offer,
)
from dispatch.referrals import service as referrals
from dispatch.referrals.enums import ACTIVE as ACTIVE_REFERRALS
from dispatch.referrals.enums import ReferralStatus
from dispatch.routing import Stage
from dispatch.volunteers.enums import VolunteerStatus
from hub_shared.errors import Conflict
from hub_shared.events import (
    Candidate,
    Event,
    MatchRanked,
    OfferAnswered,
    ReferralWithdrawn,
    ReplyReceived,
    RequestEscalated,
    TaskReleased,
)

log = logging.getLogger(__name__)

# -- where a request goes next -------------------------------------------------------------------


def route(session: Session, deps: Deps, job: Job) -> None:
    """Send a request to its next stop, in the routing file's order (a partner first, or
    volunteers first, then the other), and to the coordinators when neither can take it.
    Called again after every "no" or silence: who was asked before is never asked again."""
    stages = deps.policy.routing.stages(job.need)
    if not stages:
        escalate(session, deps, job, f"a coordinator must triage a request for '{job.need}'")
        return
    why_not = []
    for stage in stages:
        if stage == Stage.partners:
            lifetime = deps.policy.lifetime(job.urgency)
            if referrals.refer(session, deps, job, now_utc(), lifetime):
                return
            why_not.append("no partner group could take it")
        else:
            reason = offer_next(session, deps, job)
            if reason is None:
                return
            why_not.append(reason)
    escalate(session, deps, job, "; ".join(why_not))


def offer_next(session: Session, deps: Deps, job: Job) -> str | None:
    """Send a round of offers to the best candidates left (as many as the policy keeps out at
    once). Returns None while volunteers have it (offers out), else why no volunteer can."""
    policy = deps.policy
    open_offers = session.scalar(
        select(func.count())
        .select_from(Offer)
        .where(Offer.request_id == job.request_id, Offer.status == OfferStatus.offered)
    )
    wanted = policy.offers_at_once - (open_offers or 0)
    if wanted <= 0:
        return None
    if job.rounds >= policy.max_rounds:
        return None if open_offers else f"no volunteer accepted after {job.rounds} round(s) of offers"
    now = now_utc()
    candidates = rank_candidates(session, job, now, routing=policy.routing)
    deps.bus.publish(
        session,
        "match.ranked",
        MatchRanked(
            candidates=[
                Candidate(volunteer_id=c.volunteer.id, name=c.volunteer.name, rank=rank, reasons=c.reasons)
                for rank, c in enumerate(candidates[:10], start=1)
            ]
        ),
        request_id=job.request_id,
    )
    chosen: list[Volunteer] = []
    for candidate in candidates:
        if len(chosen) == wanted:
            break
        broken = broken_rules_for(session, job, candidate.volunteer, now, policy.routing)
        if broken:  # the query and the rules disagree: never offer against a rule
            log.error("matching chose a volunteer who fails %s; not offered", broken)
            continue
        chosen.append(candidate.volunteer)
    if not chosen:
        return None if open_offers else "no eligible volunteer is left to ask"
    job.move(JobStatus.offered)
    job.rounds += 1
    for volunteer in chosen:
        make_offer(session, deps, job, volunteer, now)
    return None


def escalate(session: Session, deps: Deps, job: Job, reason: str) -> None:
    job.move(JobStatus.escalated)
    escalated = RequestEscalated(reason=reason, reference=job.reference)
    deps.bus.publish(session, "request.escalated", escalated, request_id=job.request_id)


# -- answers after which the request goes on ------------------------------------------------------


def decline_offer(session: Session, deps: Deps, offer_id: str) -> Offer:
    offer = get_offer(session, offer_id)
    reason = closed_reason(offer)
    if reason:
        raise Conflict(reason)
    if not transition(
        session, offer, from_status=OfferStatus.offered, to=OfferStatus.declined, answered_at=now_utc()
    ):
        raise Conflict(closed_reason(offer) or "This offer is closed.")
    declined = OfferAnswered(offer_id=offer.id, volunteer_id=offer.volunteer_id)
    deps.bus.publish(session, "offer.declined", declined, request_id=offer.request_id)
    route(session, deps, offer.job)
    return offer


def release_task(session: Session, deps: Deps, offer_id: str, reason: str) -> Offer:
    """A volunteer who accepted can no longer do it: the task goes back to matching."""
    offer = get_offer(session, offer_id)
    if not transition(
        session, offer, from_status=OfferStatus.accepted, to=OfferStatus.released, completed_at=now_utc()
    ):
        raise Conflict(SPENT_REASONS.get(OfferStatus(offer.status), "This task is not yours to give back."))
    job = offer.job
    job.move(JobStatus.matching)
    released = TaskReleased(offer_id=offer.id, volunteer_id=offer.volunteer_id, reason=reason)
    deps.bus.publish(session, "task.released", released, request_id=job.request_id)
    route(session, deps, job)
    return offer


def expire_offers(session: Session, deps: Deps) -> int:
    """The sweep: close offers nobody answered in time and ask the next volunteer."""
    now = now_utc()
    overdue = session.scalars(
        select(Offer).where(Offer.status == OfferStatus.offered, Offer.expires_at <= now).limit(200)
    ).all()
    for offer in overdue:
        if transition(
            session, offer, from_status=OfferStatus.offered, to=OfferStatus.expired, answered_at=now
        ):
            expired = OfferAnswered(offer_id=offer.id, volunteer_id=offer.volunteer_id)
            deps.bus.publish(session, "offer.expired", expired, request_id=offer.request_id)
            route(session, deps, offer.job)
    return len(overdue)


def reject_referral(session: Session, deps: Deps, referral: Referral, reason: str) -> Referral:
    """The partner says no (it may): the request goes on to its next stop."""
    referrals.reject(session, deps, referral, reason)
    route(session, deps, referral.job)
    return referral


def answer_referral(
    session: Session, deps: Deps, referral_id: str, action: str, *, reason: str = "", partner_id: str | None
) -> Referral:
    """A partner's answer (accept, reject with a reason, complete), from the links in its email,
    its own page or its API; `partner_id`: only its own referral (None: a coordinator)."""
    referral = referrals.get_referral(session, referral_id, partner_id)
    if action == "accept":
        return referrals.accept_referral(session, deps, referral)
    if action == "reject":
        return reject_referral(session, deps, referral, reason[:500])
    return referrals.complete_referral(session, deps, referral)


def expire_referrals(session: Session, deps: Deps) -> int:
    """The sweep: referrals nobody answered in time go on to the request's next stop."""
    expired = referrals.expire_due(session, deps, now_utc())
    for referral in expired:
        route(session, deps, referral.job)
    return len(expired)


# What a text answers: YES and NO an open offer, DONE an accepted task.
OFFER_STATUS_FOR = {"yes": OfferStatus.offered, "no": OfferStatus.offered, "done": OfferStatus.accepted}


def answer_by_text(session: Session, deps: Deps, event: Event[ReplyReceived]) -> str:
    """A volunteer's SMS reply (from notify), matched to the sender's number and their most
    recent open offer (YES, NO) or accepted task (DONE), never to anything written in it. STOP
    moves them to email. An answer that no longer applies changes nothing. Returns what it did."""
    phone, keyword = event.payload.phone, event.payload.keyword
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
            accept_offer(session, deps, offer.id)
        elif keyword == "no":
            decline_offer(session, deps, offer.id)
        else:
            complete_task(session, deps, offer.id)
    except Conflict:
        return "too late"  # expired or taken meanwhile
    return keyword


# -- standing people down -------------------------------------------------------------------------


def withdraw_all(session: Session, deps: Deps, job: Job, reason: str) -> None:
    """Withdraw the request's offers waiting or accepted (each volunteer told why) and its
    referrals sent or held (each partner told, its place for the day given back)."""
    active_offers = select(Offer).where(Offer.request_id == job.request_id, Offer.status.in_(ACTIVE_OFFERS))
    for offer in session.scalars(active_offers).all():
        withdraw_offer(session, deps, offer, reason, from_status=OfferStatus(offer.status))
    active_referrals = select(Referral).where(
        Referral.request_id == job.request_id, Referral.status.in_(ACTIVE_REFERRALS)
    )
    for referral in session.scalars(active_referrals).all():
        withdrawn = move(
            session,
            referral,
            from_status=ReferralStatus(referral.status),
            to=ReferralStatus.withdrawn,
            answered_at=now_utc(),
        )
        if withdrawn:
            referrals.give_back_capacity(session, referral)
            partner = referrals.partner_ref(deps.policy.routing, referral.partner_id)
            told = ReferralWithdrawn(
                referral_id=referral.id, reference=job.reference, partner=partner, reason=reason
            )
            deps.bus.publish(session, "referral.withdrawn", told, request_id=job.request_id)


def step_back(session: Session, deps: Deps, volunteer: Volunteer) -> None:
    """Whoever is no longer active has the offers waiting for them withdrawn (those requests go
    on); whoever left also gives back the tasks they accepted."""
    if volunteer.status == VolunteerStatus.active:
        return
    volunteer_id = volunteer.id
    open_offers = session.scalars(
        select(Offer).where(Offer.volunteer_id == volunteer_id, Offer.status == OfferStatus.offered)
    ).all()
    for offer in open_offers:
        if withdraw_offer(session, deps, offer, "stepped_back"):
            route(session, deps, offer.job)
    if volunteer.status == VolunteerStatus.left:
        held = session.scalars(
            select(Offer.id).where(Offer.volunteer_id == volunteer_id, Offer.status == OfferStatus.accepted)
        ).all()
        for offer_id in held:
            release_task(session, deps, offer_id, "the volunteer stopped volunteering")
    session.refresh(volunteer)
