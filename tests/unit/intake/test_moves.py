"""A request's statuses move only as its table allows: a move a person asks for that the table
does not allow is refused (a Conflict: 409 with a sentence), while an event reporting what
already happened elsewhere is only checked with `allows` (a late one is ignored, never refused).
Plain Python: the use cases run on a stand-in session, with no app and no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from hub_shared.errors import Conflict
from hub_shared.events import RequestEnded, new_event
from hub_shared.states import IllegalMove
from intake.models import HelpRequest
from intake.requests.enums import ENDED, FINISHED, FOLLOWED, REQUEST_MOVES, RequestStatus
from intake.requests.handlers import record_progress
from intake.requests.service import end, escalate, hold, move, reopen


class StandIns:
    """A stand-in session (one request to get; what is added is kept) and bus (what is published
    is kept): just what the coordinators' actions and the event handler use."""

    def __init__(self, request: HelpRequest) -> None:
        self.request = request
        self.added: list[object] = []
        self.published: list[tuple[str, dict[str, Any]]] = []

    def get(self, _model: type, request_id: str, **_: Any) -> HelpRequest | None:
        return self.request if request_id == self.request.id else None

    def add(self, thing: object) -> None:
        self.added.append(thing)

    def publish(self, _session: object, type: str, payload: dict[str, Any], **_: Any) -> None:
        self.published.append((type, payload))

    @property
    def session(self) -> Session:
        return cast(Session, self)

    @property
    def bus(self) -> Bus:
        return cast(Bus, self)


def a_request(status: RequestStatus) -> HelpRequest:
    now = datetime.now(UTC)
    return HelpRequest(
        id="r-1", reference="KXT-4QM", status=status, status_changed_at=now, last_progress_at=now
    )


def test_a_move_the_table_does_not_allow_is_a_conflict_with_a_sentence() -> None:
    with pytest.raises(IllegalMove) as refused:
        REQUEST_MOVES.check(RequestStatus.closed, RequestStatus.on_hold)
    assert isinstance(refused.value, Conflict) and refused.value.code == 409
    assert refused.value.message == "A request that is closed cannot become on hold."
    request = a_request(RequestStatus.cancelled)
    with pytest.raises(IllegalMove):
        move(request, RequestStatus.assigned)
    assert request.status == RequestStatus.cancelled


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (RequestStatus.closed, hold, "It is closed already."),
        (RequestStatus.on_hold, hold, "It is on hold already."),
        (RequestStatus.completed, hold, "It is completed already."),
        (RequestStatus.cancelled, escalate, "It is cancelled: reopen it first."),
        (RequestStatus.escalated, escalate, "It is escalated already."),
        (RequestStatus.matching, reopen, "It is open already."),
    ],
)
def test_an_action_that_does_not_fit_the_status_is_refused_and_changes_nothing(
    status: RequestStatus, action: Any, message: str
) -> None:
    request = a_request(status)
    fake = StandIns(request)
    with pytest.raises(Conflict) as refused:
        action(fake.session, fake.bus, "r-1", "a reason", "ada@hub.example")
    assert refused.value.code == 409 and refused.value.message == message
    assert request.status == status and fake.added == [] and fake.published == []


def test_ending_an_ended_request_is_refused_and_closing_a_completed_one_is_not() -> None:
    for status in ENDED:
        with pytest.raises(IllegalMove, match=f"It is {status} already."):
            fake = StandIns(a_request(status))
            end(fake.session, fake.bus, "r-1", "close", "Helped", "ada")
    request = a_request(RequestStatus.completed)
    fake = StandIns(request)
    end(fake.session, fake.bus, "r-1", "close", "Helped", "ada")
    assert request.status == RequestStatus.closed and fake.published == [
        ("request.closed", RequestEnded(reason="Helped"))
    ]


def test_the_moves_people_ask_for_are_allowed_where_they_fit() -> None:
    for status in RequestStatus:
        assert REQUEST_MOVES.allows(status, RequestStatus.escalated)  # escalated, reopened or "no help"
        assert REQUEST_MOVES.allows(status, RequestStatus.on_hold) == (
            status not in FINISHED and status != RequestStatus.on_hold
        )
        assert REQUEST_MOVES.allows(status, RequestStatus.closed) == (status not in ENDED)
    request = a_request(RequestStatus.on_hold)
    fake = StandIns(request)
    reopen(fake.session, fake.bus, "r-1", "Back home", "ada")
    assert request.status == RequestStatus.escalated
    assert fake.published == [("request.reopened", RequestEnded(reason="Back home"))]


def test_events_may_move_any_request_not_ended_and_a_late_one_is_ignored_not_refused() -> None:
    for new in FOLLOWED:
        assert all(REQUEST_MOVES.allows(status, new) for status in RequestStatus if status not in ENDED)
    for status in ENDED:
        request = a_request(status)
        fake = StandIns(request)
        escalated = new_event("request.escalated", {"reason": "no one left to ask"}, request_id="r-1")
        record_progress(fake.session, escalated)  # (the table lets reopening do this; an event may not)
        assert request.status == status and len(fake.added) == 1  # on the timeline only
