"""intake's use cases: record a request, follow it through the other services' events, and
make sure none is left behind. No Flask and no Celery here."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub_shared.bus import Bus, Handler
from hub_shared.events import Event
from hub_shared.schemas import postcode_district
from intake.models import Candidate, HelpRequest, TimelineEntry
from intake.queue import DUE_WITHIN

# Read over the phone: no 0/O, 1/I/L, 2/Z, 5/S, 8/B lookalikes. 23**6 is about 148 million.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY347"
REFERENCE_HALF = 3

# A request still here after the stall time has had its first event lost on the way.
STALLED_STATUSES = ("submitted",)


class NotFound(LookupError):
    pass


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_reference() -> str:
    """A reference like KXT-4QM: short, unambiguous and easy to read back to a caller."""
    chars = [secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_HALF * 2)]
    return "".join(chars[:REFERENCE_HALF]) + "-" + "".join(chars[REFERENCE_HALF:])


def submit_request(session: Session, bus: Bus, data: dict[str, Any]) -> HelpRequest:
    """Record a request for help (validated by RequestIn) and announce it to dispatch."""
    now = now_utc()
    requester = data["requester"]
    reference = new_reference()
    while session.scalar(select(HelpRequest.id).where(HelpRequest.reference == reference)):
        reference = new_reference()
    request = HelpRequest(
        id=str(uuid.uuid4()),
        reference=reference,
        status="submitted",
        need=data["need"],
        urgency=data["urgency"],
        details=data["details"],
        vulnerable=data["vulnerable"],
        safeguarding=data["safeguarding"],
        requester_name=requester["name"],
        requester_phone=requester.get("phone"),
        requester_email=requester.get("email"),
        requester_postcode=requester["postcode"],
        requester_address=requester["address"],
        consent_data_processing=data["consent"]["data_processing"],
        consent_same_volunteer=data["consent"]["same_volunteer"],
        consent_updates=data["consent"]["updates"],
        district=postcode_district(requester["postcode"]),
        created_at=now,
        due_at=now + DUE_WITHIN[data["urgency"]],
        status_changed_at=now,
        last_progress_at=now,
    )
    session.add(request)
    session.add(TimelineEntry(request=request, at=now, kind="request.submitted", summary="Request recorded"))
    bus.publish(
        session,
        "request.submitted",
        {
            "reference": reference,
            "need": request.need,
            "urgency": request.urgency,
            "details": request.details,
            "vulnerable": request.vulnerable,
            "safeguarding": request.safeguarding,
            "continuity": request.consent_same_volunteer,
            "updates": request.consent_updates,
            "requester": {
                "name": request.requester_name,
                "phone": request.requester_phone,
                "email": request.requester_email,
                "postcode": request.requester_postcode,
                "address": request.requester_address,
            },
        },
        request_id=request.id,
    )
    return request


def get_request(session: Session, request_id: str) -> HelpRequest:
    request = session.get(HelpRequest, request_id)
    if request is None:
        raise NotFound(request_id)
    request.timeline  # load it while the session is open  # noqa: B018
    return request


MESSAGE_LABELS = {
    "offer": "the offer",
    "offer_accepted": "the details after acceptance",
    "offer_withdrawn": "the note that the offer is withdrawn",
    "referral": "the referral",
    "referral_accepted": "the details to the partner",
}


def message_label(payload: dict[str, Any]) -> str:
    return MESSAGE_LABELS.get(payload["template"], payload["template"].replace("_", " "))


def sent_how(channel: str) -> str:
    if channel == "dev_outbox":
        return "kept in the dev outbox (no mail server is set)"
    return f"sent by {channel}"


# What each event means for a request: the status it moves to (None: timeline only) and the
# line the coordinators read. Summaries name no person: the timeline is shown widely.
Summary = Callable[[dict[str, Any]], str]
PROGRESS: dict[str, tuple[str | None, Summary]] = {
    "match.ranked": ("matching", lambda p: f"Matching: {len(p['candidates'])} volunteer(s) eligible"),
    "offer.sent": ("offered", lambda p: f"Offered to volunteer {p['volunteer']['id'][:8]}"),
    "offer.declined": ("matching", lambda p: f"Volunteer {p['volunteer_id'][:8]} declined"),
    "offer.expired": ("matching", lambda p: f"Offer to volunteer {p['volunteer_id'][:8]} expired"),
    "offer.accepted": ("assigned", lambda p: f"Volunteer {p['volunteer']['id'][:8]} accepted"),
    "offer.withdrawn": (None, lambda p: f"Offer to volunteer {p['volunteer']['id'][:8]} withdrawn"),
    "task.completed": ("completed", lambda p: f"Volunteer {p['volunteer_id'][:8]} marked it done"),
    "task.released": ("matching", lambda p: f"Volunteer {p['volunteer_id'][:8]} gave it back: {p['reason']}"),
    "referral.sent": ("referred", lambda p: f"Referred to {p['partner']['name']}"),
    "referral.accepted": ("referred", lambda p: f"{p['partner']['name']} accepted the referral"),
    # Free-text reasons stay out of the widely shown timeline: they may name people.
    "referral.rejected": ("matching", lambda p: f"Partner {p['partner_id']} turned it down"),
    "referral.expired": ("matching", lambda p: f"Partner {p['partner_id']} did not answer in time"),
    "referral.completed": ("completed", lambda p: f"Partner {p['partner_id']} marked it done"),
    "request.escalated": ("escalated", lambda p: f"Escalated to coordinators: {p['reason']}"),
    "notification.sent": (None, lambda p: f"{message_label(p).capitalize()} {sent_how(p['channel'])}"),
    "notification.failed": (None, lambda p: f"Could not send {message_label(p)} by {p['channel']}"),
}


def record_progress(session: Session, event: Event) -> None:
    """Apply another service's event to the request's status and timeline."""
    request = session.get(HelpRequest, event.request_id) if event.request_id else None
    if request is None:
        return  # not ours (or erased): nothing to follow
    status, summary = PROGRESS[event.type]
    session.add(
        TimelineEntry(request=request, at=event.occurred_at, kind=event.type, summary=summary(event.payload))
    )
    if status is not None and event.occurred_at >= request.status_changed_at:
        request.status = status
        request.status_changed_at = event.occurred_at
    if event.type in TAKEN_ON and request.assigned_at is None:
        request.assigned_at = event.occurred_at
    if event.type in DONE and request.completed_at is None:
        request.completed_at = event.occurred_at
    request.last_progress_at = max(request.last_progress_at, now_utc())
    if event.type == "match.ranked":
        keep_ranking(request, event)


def keep_ranking(request: HelpRequest, event: Event) -> None:
    """Keep dispatch's latest ranking of volunteers for the request (an older one that arrives
    late is ignored), for the coordinators' page."""
    if request.ranked_at is not None and request.ranked_at >= event.occurred_at:
        return
    request.ranked_at = event.occurred_at
    request.candidates = [
        Candidate(
            rank=c["rank"],
            volunteer_id=c["volunteer_id"],
            volunteer_name=c.get("name"),
            reasons="\n".join(c["reasons"]),
        )
        for c in event.payload["candidates"]
    ]


TAKEN_ON = ("offer.accepted", "referral.accepted")  # someone has it: the time to assign ends
DONE = ("task.completed", "referral.completed")

HANDLERS: dict[str, Handler] = {event_type: record_progress for event_type in PROGRESS}


def reconcile(session: Session, bus: Bus, *, stall_seconds: int) -> int:
    """Publish again the events of requests that made no progress; return how many."""
    now = now_utc()
    stalled = session.scalars(
        select(HelpRequest).where(
            HelpRequest.status.in_(STALLED_STATUSES),
            HelpRequest.last_progress_at < now - timedelta(seconds=stall_seconds),
        )
    ).all()
    for request in stalled:
        bus.republish(session, request.id)
        request.last_progress_at = now  # wait another stall period before trying again
        session.add(
            TimelineEntry(
                request=request, at=now, kind="reconciled", summary="No progress: events sent again"
            )
        )
    return len(stalled)


def requester_answered(session: Session, bus: Bus, request_id: str, got_help: bool) -> HelpRequest:
    """The requester's answer to "did you get help?" (from the link in the check message). Yes
    closes a completed request; no reopens it, escalated, and the coordinators are told."""
    request = get_request(session, request_id)
    now = now_utc()
    if got_help:
        summary = "The requester says they got the help they needed"
        if request.status == "completed":
            request.status, request.status_changed_at = "closed", now
            summary += ": closed"
    else:
        request.status, request.status_changed_at = "escalated", now
        summary = "The requester says they did not get help: a coordinator should call them"
        reason = "the requester says they did not get help"
        payload = {"reason": reason, "reference": request.reference}
        bus.publish(session, "request.escalated", payload, request_id=request.id)
    request.last_progress_at = now
    session.add(TimelineEntry(request=request, at=now, kind="requester.answered", summary=summary))
    return request
