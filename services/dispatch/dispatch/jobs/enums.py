"""A job's statuses (dispatch's copy of a request) and the moves between them."""

from __future__ import annotations

from enum import StrEnum

from hub_shared.states import Transitions


class JobStatus(StrEnum):
    matching = "matching"  # looking for a volunteer or partner
    offered = "offered"  # offers are out
    referred = "referred"  # a partner group has been asked, or holds it
    assigned = "assigned"  # a volunteer accepted
    completed = "completed"  # the volunteer or partner says it is done
    escalated = "escalated"  # nobody could take it: a coordinator must step in
    held = "held"  # a coordinator put it on hold: nobody is asked until it is reopened
    ended = "ended"  # cancelled or closed in intake


# A coordinator may hold or end a request whatever dispatch is doing with it, and reassign it
# (send_to) unless it is held or ended; reopening starts matching again.
_ANYWHERE = (JobStatus.held, JobStatus.ended)
JOB_MOVES = Transitions(
    "request",
    {
        JobStatus.matching: {JobStatus.offered, JobStatus.referred, JobStatus.escalated, *_ANYWHERE},
        JobStatus.offered: {
            JobStatus.offered, JobStatus.assigned, JobStatus.referred, JobStatus.escalated, *_ANYWHERE
        },
        JobStatus.referred: {
            JobStatus.referred, JobStatus.offered, JobStatus.completed, JobStatus.escalated, *_ANYWHERE
        },
        JobStatus.assigned: {
            JobStatus.completed, JobStatus.matching, JobStatus.offered, JobStatus.referred, *_ANYWHERE
        },
        JobStatus.escalated: {
            JobStatus.escalated, JobStatus.offered, JobStatus.referred, JobStatus.matching, *_ANYWHERE
        },
        JobStatus.completed: {JobStatus.matching, JobStatus.offered, JobStatus.referred, *_ANYWHERE},
        JobStatus.held: {JobStatus.matching, *_ANYWHERE},
        JobStatus.ended: {JobStatus.matching, JobStatus.ended},
    },
)  # fmt: skip

# Where a request is when a coordinator may reopen it: nobody has it or is being asked.
REOPENABLE = frozenset({JobStatus.ended, JobStatus.held, JobStatus.completed, JobStatus.escalated})
STOPPED = frozenset({JobStatus.ended, JobStatus.held})
