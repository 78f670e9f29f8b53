"""The other services' events, followed into each request's status and timeline, and the
requests whose first event was lost, sent again. No Flask and no Celery here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub_shared.bus import Bus, Handler
from hub_shared.events import Event, MatchRanked, NotificationOutcome, ReferralAccepted, RequestEscalated
from intake.models import Candidate, HelpRequest, TimelineEntry
from intake.requests.enums import ENDED, REQUEST_MOVES, STALLED, EntryKind, RequestStatus
from intake.requests.service import now_utc

MESSAGE_LABELS = {
    "offer": "the offer",
    "offer_accepted": "the details after acceptance",
    "offer_withdrawn": "the note that the offer is withdrawn",
    "referral": "the referral",
    "referral_accepted": "the details to the partner",
}


def message_label(outcome: NotificationOutcome) -> str:
    return MESSAGE_LABELS.get(outcome.template, outcome.template.replace("_", " "))


def sent_how(channel: str) -> str:
    if channel == "dev_outbox":
        return "kept in the dev outbox (no mail server is set)"
    return f"sent by {channel}"


# What each event means for a request: the status it moves to (None: timeline only) and the
# line the coordinators read. Summaries name no person: the timeline is shown widely.
Summary = Callable[[Any], str]  # (the event's payload: its class in hub_shared.events)
PROGRESS: dict[str, tuple[RequestStatus | None, Summary]] = {
    "match.ranked": (
        RequestStatus.matching,
        lambda p: f"Matching: {len(p.candidates)} volunteer(s) eligible",
    ),
    "offer.sent": (RequestStatus.offered, lambda p: f"Offered to volunteer {p.volunteer.id[:8]}"),
    "offer.declined": (RequestStatus.matching, lambda p: f"Volunteer {p.volunteer_id[:8]} declined"),
    "offer.expired": (
        RequestStatus.matching,
        lambda p: f"Offer to volunteer {p.volunteer_id[:8]} expired",
    ),
    "offer.accepted": (RequestStatus.assigned, lambda p: f"Volunteer {p.volunteer.id[:8]} accepted"),
    "offer.withdrawn": (None, lambda p: f"Offer to volunteer {p.volunteer.id[:8]} withdrawn"),
    "task.completed": (
        RequestStatus.completed,
        lambda p: f"Volunteer {p.volunteer_id[:8]} marked it done",
    ),
    "task.released": (
        RequestStatus.matching,
        lambda p: f"Volunteer {p.volunteer_id[:8]} gave it back: {p.reason}",
    ),
    "referral.sent": (RequestStatus.referred, lambda p: f"Referred to {p.partner.name}"),
    "referral.accepted": (RequestStatus.referred, lambda p: f"{p.partner.name} accepted the referral"),
    # Free-text reasons stay out of the widely shown timeline: they may name people.
    "referral.rejected": (RequestStatus.matching, lambda p: f"Partner {p.partner_id} turned it down"),
    "referral.expired": (
        RequestStatus.matching,
        lambda p: f"Partner {p.partner_id} did not answer in time",
    ),
    "referral.completed": (RequestStatus.completed, lambda p: f"Partner {p.partner_id} marked it done"),
    "referral.withdrawn": (None, lambda p: f"Referral to {p.partner.name} withdrawn"),
    "request.escalated": (RequestStatus.escalated, lambda p: f"Escalated to coordinators: {p.reason}"),
    "notification.sent": (None, lambda p: f"{message_label(p).capitalize()} {sent_how(p.channel)}"),
    "notification.failed": (None, lambda p: f"Could not send {message_label(p)} by {p.channel}"),
}


def record_progress(session: Session, event: Event[Any]) -> None:
    """Apply another service's event to the request's status and timeline."""
    request = session.get(HelpRequest, event.request_id) if event.request_id else None
    if request is None:
        return  # not ours (or erased): nothing to follow
    if isinstance(event.payload, RequestEscalated) and event.payload.raised_by == "coordinator":
        return  # raised here: already on the timeline, with who raised it
    status, summary = PROGRESS[event.type]
    session.add(
        TimelineEntry(request=request, at=event.occurred_at, kind=event.type, summary=summary(event.payload))
    )
    if status is not None and request.status in ENDED:
        status = None  # cancelled or closed by a coordinator: only reopening brings it back
    # An event reports what already happened: one the table does not allow, or older than the
    # status it would replace, is kept on the timeline and otherwise ignored (never refused).
    if (
        status is not None
        and REQUEST_MOVES.allows(request.status, status)
        and event.occurred_at >= request.status_changed_at
    ):
        request.status = status
        request.status_changed_at = event.occurred_at
    if event.type in TAKEN_ON and request.assigned_at is None:
        request.assigned_at = event.occurred_at
    if event.type in TAKEN_ON:
        taken_by_partner = isinstance(event.payload, ReferralAccepted)
        request.helped_by = event.payload.partner.name if taken_by_partner else "volunteers"
    if event.type in DONE and request.completed_at is None:
        request.completed_at = event.occurred_at
    request.last_progress_at = max(request.last_progress_at, now_utc())
    if event.type == "match.ranked":
        keep_ranking(request, event)


def keep_ranking(request: HelpRequest, event: Event[MatchRanked]) -> None:
    """Keep dispatch's latest ranking of volunteers for the request (an older one that arrives
    late is ignored), for the coordinators' page."""
    if request.ranked_at is not None and request.ranked_at >= event.occurred_at:
        return
    request.ranked_at = event.occurred_at
    request.candidates = [
        Candidate(
            rank=c.rank, volunteer_id=c.volunteer_id, volunteer_name=c.name, reasons="\n".join(c.reasons)
        )
        for c in event.payload.candidates
    ]


TAKEN_ON = ("offer.accepted", "referral.accepted")  # someone has it: the time to assign ends
DONE = ("task.completed", "referral.completed")


def handlers() -> dict[str, Handler]:
    """The handler table: every event intake follows (built once, by the bootstrap)."""
    return {event_type: record_progress for event_type in PROGRESS}


def reconcile(session: Session, bus: Bus, *, stall_seconds: int) -> int:
    """Publish again the events of requests that made no progress; return how many."""
    now = now_utc()
    stalled = session.scalars(
        select(HelpRequest).where(
            HelpRequest.status.in_(STALLED),
            HelpRequest.last_progress_at < now - timedelta(seconds=stall_seconds),
        )
    ).all()
    for request in stalled:
        bus.republish(session, request.id)
        request.last_progress_at = now  # wait another stall period before trying again
        session.add(
            TimelineEntry(
                request=request, at=now, kind=EntryKind.reconciled, summary="No progress: events sent again"
            )
        )
    return len(stalled)
