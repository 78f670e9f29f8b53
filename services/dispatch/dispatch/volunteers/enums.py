"""A volunteer's statuses, the moves between them, and the actions that make them."""

from __future__ import annotations

from enum import StrEnum

from hub_shared.states import Transitions


class VolunteerStatus(StrEnum):
    applied = "applied"  # signed themselves up
    verified = "verified"  # proved their email: waiting for a coordinator's approval
    approved = "approved"
    active = "active"  # offered requests
    paused = "paused"
    left = "left"


class RowOutcome(StrEnum):
    """What an import did with one row (volunteers, postcode districts)."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


class StatusAction(StrEnum):
    """What a coordinator (or, for pause, resume and leave, the volunteer) may do."""

    approve = "approve"
    activate = "activate"
    pause = "pause"
    resume = "resume"
    leave = "leave"


# applied -> verified (email) -> approved -> active; paused or left at any time.
_STILL_HERE = (
    VolunteerStatus.applied,
    VolunteerStatus.verified,
    VolunteerStatus.approved,
    VolunteerStatus.active,
    VolunteerStatus.paused,
)
# Each action's target, and the statuses it applies to (resume and activate both make someone
# active, from different places, and are different buttons).
_NEW = (VolunteerStatus.applied, VolunteerStatus.verified)
STATUS_ACTIONS: dict[StatusAction, tuple[frozenset[VolunteerStatus], VolunteerStatus]] = {
    StatusAction.approve: (frozenset(_NEW), VolunteerStatus.approved),
    StatusAction.activate: (frozenset({VolunteerStatus.approved}), VolunteerStatus.active),
    StatusAction.pause: (frozenset({VolunteerStatus.active}), VolunteerStatus.paused),
    StatusAction.resume: (frozenset({VolunteerStatus.paused}), VolunteerStatus.active),
    StatusAction.leave: (frozenset(_STILL_HERE), VolunteerStatus.left),
}


def _moves() -> dict[VolunteerStatus, set[VolunteerStatus]]:
    moves: dict[VolunteerStatus, set[VolunteerStatus]] = {VolunteerStatus.applied: {VolunteerStatus.verified}}
    for sources, target in STATUS_ACTIONS.values():
        for source in sources:
            moves.setdefault(source, set()).add(target)
    return moves


# The actions' moves, and proving one's email (applied -> verified).
VOLUNTEER_MOVES = Transitions("volunteer", _moves())
