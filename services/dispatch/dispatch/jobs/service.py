"""Jobs: dispatch's copy of each request, kept from intake's events (submitted, updated,
cancelled, closed, held, reopened), and a coordinator's reassignment. No Flask, no Celery."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.deps import Deps, now_utc
from dispatch.flows import route, withdraw_all
from dispatch.jobs.enums import REOPENABLE, STOPPED, JobStatus
from dispatch.matching import locate, rank_candidates
from dispatch.models import Job, StoppedRequest, lock_job
from dispatch.offers.service import make_offer
from dispatch.referrals import service as referrals
from hub_shared.errors import Conflict, NotFound
from hub_shared.events import Event, RequestEnded, RequestSubmitted
from hub_shared.schemas import postcode_district


def receive_request(session: Session, deps: Deps, event: Event[RequestSubmitted]) -> None:
    """A new request from intake: keep what dispatch needs of it, then match."""
    if session.get(Job, event.request_id) is not None:
        return
    job = Job(
        request_id=event.request_id,
        reference=event.payload.reference,
        status=JobStatus.matching,
        rounds=0,
        created_at=now_utc(),
    )
    copy_request(session, job, event.payload)
    session.add(job)
    session.flush()
    stopped = session.get(StoppedRequest, job.request_id)
    if stopped is not None:  # cancelled, closed or held before it reached us: nobody is asked
        job.move(JobStatus(stopped.status))
        return
    route(session, deps, job)


def copy_request(session: Session, job: Job, request: RequestSubmitted) -> None:
    """Keep what dispatch needs of a request (request.submitted, or request.updated after an
    edit) in its job; the place again only if the postcode changed."""
    requester = request.requester
    job.need, job.urgency, job.details = request.need, request.urgency, request.details
    job.vulnerable, job.continuity = request.vulnerable, request.continuity
    job.requester_name, job.requester_phone = requester.name, requester.phone
    job.address = requester.address or ""
    if requester.postcode is not None and requester.postcode != job.postcode:
        job.postcode, job.district = requester.postcode, postcode_district(requester.postcode)
        job.latitude, job.longitude = locate(session, job.district)


def update_job(session: Session, deps: Deps, event: Event[RequestSubmitted]) -> None:
    """A coordinator edited the request: keep dispatch's copy current (what later offers and
    referrals say, and the details the next volunteer or partner gets). Who has it keeps it."""
    job = session.get(Job, event.request_id) if event.request_id else None
    if job is not None:
        copy_request(session, job, event.payload)


def end_request(session: Session, deps: Deps, event: Event[RequestEnded], *, held: bool = False) -> None:
    """A coordinator cancelled, closed or held the request: nobody is asked about it any more
    (until it is reopened)."""
    if event.request_id is None:
        return
    status = JobStatus.held if held else JobStatus.ended
    job = session.get(Job, event.request_id)
    if job is None:  # it has not arrived yet: when it does, it stays stopped
        if session.get(StoppedRequest, event.request_id) is None:
            session.add(StoppedRequest(request_id=event.request_id, status=status, stopped_at=now_utc()))
        return
    lock_job(session, job.request_id)
    session.refresh(job)
    if job.status == JobStatus.ended:
        return  # closed already (a late hold, or the same event again): nothing more to stop
    job.move(status)
    withdraw_all(session, deps, job, "on_hold" if held else "cancelled")


def hold_request(session: Session, deps: Deps, event: Event[RequestEnded]) -> None:
    end_request(session, deps, event, held=True)


def reopen_job(session: Session, deps: Deps, event: Event[RequestEnded]) -> None:
    """A coordinator reopened the request: look for help again, past whoever was asked before."""
    job = session.get(Job, event.request_id) if event.request_id else None
    if job is None:
        stopped = session.get(StoppedRequest, event.request_id) if event.request_id else None
        if stopped is not None:
            session.delete(stopped)  # when it arrives, it is matched as any other
        return
    lock_job(session, job.request_id)
    session.refresh(job)
    if job.status not in REOPENABLE:
        return  # someone still has it, or is being asked
    job.move(JobStatus.matching)
    job.rounds = 0
    route(session, deps, job)


def send_to(
    session: Session,
    deps: Deps,
    request_id: str,
    *,
    volunteer_id: str | None = None,
    partner_id: str | None = None,
) -> None:
    """A coordinator reassigns a request: whoever has it or was asked is stood down, then the
    chosen volunteer (one the hard rules allow) is offered it, or the chosen partner group is
    referred it (if it has room today)."""
    job = session.get(Job, request_id)
    if job is None:
        raise NotFound("dispatch has no open request with that id.")
    lock_job(session, request_id)
    session.refresh(job)  # as it is now that this transaction holds it
    if job.status in STOPPED:
        state = "on hold" if job.status == JobStatus.held else "cancelled or closed"
        raise Conflict(f"It is {state}: reopen it first.")
    now = now_utc()
    routing = deps.policy.routing
    if volunteer_id is not None:
        allowed = {c.volunteer.id: c.volunteer for c in rank_candidates(session, job, now, routing=routing)}
        if volunteer_id not in allowed:
            raise Conflict("That volunteer cannot take it now (the hard rules, or they were asked already).")
        withdraw_all(session, deps, job, "reassigned")
        job.move(JobStatus.offered)
        make_offer(session, deps, job, allowed[volunteer_id], now)
        return
    partner = routing.partners.get(partner_id or "")
    if partner is None:
        raise Conflict("Choose a partner group from the list.")
    withdraw_all(session, deps, job, "reassigned")
    lifetime = deps.policy.lifetime(job.urgency)
    if referrals.refer(session, deps, job, now, lifetime, only=partner.id) is None:
        raise Conflict(f"{partner.name} has no room today, or has had this request before.")
