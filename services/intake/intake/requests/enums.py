"""A request's statuses and the moves allowed between them, and the other words that look like
statuses but are not one (timeline kinds, the queue's reasons). A StrEnum is its string: stored,
compared and shown as before."""

from __future__ import annotations

from enum import StrEnum

from hub_shared.states import Transitions


class RequestStatus(StrEnum):
    """In the order the queue and the dashboard list them."""

    submitted = "submitted"
    matching = "matching"
    offered = "offered"
    assigned = "assigned"
    referred = "referred"
    escalated = "escalated"
    on_hold = "on_hold"
    completed = "completed"
    closed = "closed"
    cancelled = "cancelled"


S = RequestStatus
ENDED = (S.closed, S.cancelled)  # a coordinator ended it: only reopening brings it back
FINISHED = (S.completed, *ENDED)  # nothing more to arrange
UNMATCHED = (S.submitted, S.matching)  # nobody has it, nor has been asked
STALLED = (S.submitted,)  # still here after the stall time: its first event was lost

# What the other services' events report (handlers): a later event moves an open request on.
FOLLOWED = (S.matching, S.offered, S.assigned, S.referred, S.completed, S.escalated)

REQUEST_MOVES = Transitions(
    "request",
    {
        # Events move it on; a coordinator escalates, holds, closes or cancels it.
        S.submitted: {*FOLLOWED, S.on_hold, *ENDED},
        S.matching: {*FOLLOWED, S.on_hold, *ENDED},
        S.offered: {*FOLLOWED, S.on_hold, *ENDED},
        S.assigned: {*FOLLOWED, S.on_hold, *ENDED},
        S.referred: {*FOLLOWED, S.on_hold, *ENDED},
        # (escalated again: the requester says once more that they did not get help)
        S.escalated: {*FOLLOWED, S.on_hold, *ENDED},
        # Reopened (as escalated), escalated, closed or cancelled; events still follow it.
        S.on_hold: {*FOLLOWED, *ENDED},
        # Closed (by a coordinator or the requester's "yes"), cancelled, or reopened as escalated.
        S.completed: {*FOLLOWED, *ENDED},
        S.closed: {S.escalated},  # reopened
        S.cancelled: {S.escalated},  # reopened
    },
)


class EntryKind(StrEnum):
    """What a person did, as the timeline records it (events are kept by their type)."""

    submitted = "request.submitted"
    note = "note"
    call = "call"
    edited = "edited"
    escalated = "escalated"
    on_hold = "on_hold"
    closed = "closed"
    cancelled = "cancelled"
    merged = "merged"
    reopened = "reopened"
    reconciled = "reconciled"
    requester_answered = "requester.answered"


class AttentionReason(StrEnum):
    """Why a request needs a person now, most pressing first."""

    escalated = "escalated"
    safeguarding = "safeguarding"
    overdue = "overdue"
    unmatched = "unmatched"


class Ending(StrEnum):
    """How a coordinator ends a request."""

    cancel = "cancel"
    close = "close"
