"""The event bus on intake's database: a transactional outbox, an idempotent inbox, a dead-letter
table, housekeeping, and the retry policy of every service's handle_event task."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub_shared.app import MAX_HANDLER_RETRIES, consume_with_retries
from hub_shared.bus import Bus
from hub_shared.events import Event, RequestEscalated, new_event
from tests.unit.conftest import hub_of, outbox


class Boom(RuntimeError):
    pass


def bus_of(app: Flask) -> Bus:
    return hub_of(app).bus


def escalated(request_id: str = "r-1") -> dict[str, Any]:
    """A valid message, as it arrives from a queue."""
    return new_event("request.escalated", {"reason": "no volunteer"}, request_id=request_id).to_message()


def rows(app: Flask, model: type[Any]) -> list[Any]:
    with hub_of(app).db.sessions() as session:
        return list(session.scalars(select(model)))


def count(app: Flask, model: type[Any]) -> int:
    with hub_of(app).db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@dataclass
class Recorder:
    """A handler that remembers the events it was given."""

    seen: list[Event] = field(default_factory=list)

    def __call__(self, session: Session, event: Event) -> None:
        self.seen.append(event)


# -- publishing ---------------------------------------------------------------------------------


def test_publish_writes_an_outbox_row_when_the_transaction_commits(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    with hub_of(intake_app).db.transaction() as session:
        event = bus.publish(session, "request.escalated", {"reason": "no volunteer"}, request_id="r-1")
    [row] = rows(intake_app, bus.models.outbox)
    assert row.event_id == event.id and row.request_id == "r-1" and row.published_at is None
    assert json.loads(row.body) == event.to_message()


def test_publish_writes_nothing_when_the_transaction_rolls_back(intake_app: Flask) -> None:
    """The event and the state change it describes commit together or not at all."""
    bus = bus_of(intake_app)
    with pytest.raises(Boom), hub_of(intake_app).db.transaction() as session:
        bus.publish(session, "request.escalated", {"reason": "no volunteer"}, request_id="r-1")
        raise Boom("the state change failed")
    assert outbox(intake_app) == []


def test_relay_without_a_broker_sends_nothing_and_gives_up_quickly(intake_app: Flask) -> None:
    """REDIS_URL points at a socket nobody listens on: the rows wait for the sweep."""
    bus = bus_of(intake_app)
    with hub_of(intake_app).db.transaction() as session:
        bus.publish(session, "request.escalated", {"reason": "a"}, request_id="r-1")
        bus.publish(session, "request.escalated", {"reason": "b"}, request_id="r-1")
    started = time.monotonic()
    assert bus.relay() == 0
    assert time.monotonic() - started < 5
    assert [row.published_at for row in rows(intake_app, bus.models.outbox)] == [None, None]


def mark_all_published(app: Flask, when: datetime) -> None:
    Outbox = bus_of(app).models.outbox
    with hub_of(app).db.transaction() as session:
        session.execute(update(Outbox).values(published_at=when))


def test_republish_clears_published_at_for_one_requests_rows_only(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    with hub_of(intake_app).db.transaction() as session:
        for request_id in ("r-1", "r-1", "r-2"):
            bus.publish(session, "request.escalated", {"reason": "x"}, request_id=request_id)
    mark_all_published(intake_app, datetime.now(UTC))
    with hub_of(intake_app).db.transaction() as session:
        assert bus.republish(session, "r-1") == 2
    published = {(row.request_id, row.published_at is None) for row in rows(intake_app, bus.models.outbox)}
    assert published == {("r-1", True), ("r-2", False)}


def test_prune_drops_old_sent_outbox_rows_and_old_inbox_ids_only(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    Outbox, Inbox = bus.models.outbox, bus.models.inbox
    now = datetime.now(UTC)
    with hub_of(intake_app).db.transaction() as session:
        for event_id, created, published in [
            ("old-sent", now - timedelta(days=9), now - timedelta(days=8)),
            ("recent-sent", now - timedelta(days=2), now - timedelta(days=1)),
            ("old-unsent", now - timedelta(days=60), None),  # never sent: must survive
        ]:
            session.add(Outbox(event_id=event_id, type="request.escalated", body="{}", created_at=created))
            session.flush()
            session.execute(update(Outbox).where(Outbox.event_id == event_id).values(published_at=published))
        session.add(Inbox(event_id="old-seen", type="x", processed_at=now - timedelta(days=31)))
        session.add(Inbox(event_id="recent-seen", type="x", processed_at=now - timedelta(days=10)))
    bus.prune()
    assert sorted(row.event_id for row in rows(intake_app, Outbox)) == ["old-unsent", "recent-sent"]
    assert [row.event_id for row in rows(intake_app, Inbox)] == ["recent-seen"]


# -- consuming ----------------------------------------------------------------------------------


def test_consuming_the_same_message_twice_runs_the_handler_once(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    handler = Recorder()
    message = escalated()
    first, event = bus.consume(message, {"request.escalated": handler})
    second, again = bus.consume(message, {"request.escalated": handler})
    assert (first, second) == ("processed", "duplicate")
    assert event is not None and again is not None and event.id == again.id == message["id"]
    assert [e.id for e in handler.seen] == [message["id"]]
    assert count(intake_app, bus.models.inbox) == 1


def test_an_event_without_a_handler_is_still_recorded_as_seen(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    message = escalated()
    assert bus.consume(message, {})[0] == "processed"
    assert bus.consume(message, {})[0] == "duplicate"


def test_a_handler_that_fails_leaves_no_trace_so_the_event_can_be_tried_again(intake_app: Flask) -> None:
    """The inbox row rolls back with the handler's work: a retry is not mistaken for a duplicate."""
    bus = bus_of(intake_app)
    message = escalated()

    def failing(session: Session, event: Event) -> None:
        bus.publish(session, "request.escalated", {"reason": "side effect"}, request_id="r-9")
        raise Boom("handler failed")

    with pytest.raises(Boom):
        bus.consume(message, {"request.escalated": failing})
    assert count(intake_app, bus.models.inbox) == 0
    assert outbox(intake_app) == []
    handler = Recorder()
    assert bus.consume(message, {"request.escalated": handler})[0] == "processed"
    assert len(handler.seen) == 1


def test_an_invalid_message_is_dead_lettered_with_its_body_and_the_reason(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    handler = Recorder()
    message = escalated()
    message["payload"] = {}  # breaks request.escalated's contract: reason is required
    outcome, event = bus.consume(message, {"request.escalated": handler})
    assert (outcome, event) == ("dead", None)
    assert handler.seen == []
    [letter] = rows(intake_app, bus.models.dead_letters)
    assert json.loads(letter.body) == message
    assert letter.event_id == message["id"] and letter.type == "request.escalated"
    assert "invalid event" in letter.error and "reason" in letter.error
    assert count(intake_app, bus.models.inbox) == 0


def test_a_non_object_message_is_dead_lettered_too(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    assert bus.consume(["not", "an", "event"], {})[0] == "dead"
    [letter] = rows(intake_app, bus.models.dead_letters)
    assert json.loads(letter.body) == ["not", "an", "event"]
    assert letter.event_id is None and letter.type is None


def test_replaying_a_dead_letter_consumes_its_stored_body_once(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    message = escalated()
    bus.dead_letter(message, "failed 6 times: Boom()")  # parked by a handler that kept failing
    [letter] = rows(intake_app, bus.models.dead_letters)
    handler = Recorder()
    assert bus.replay_dead_letter(letter.id, {"request.escalated": handler}) == "processed"
    assert [e.id for e in handler.seen] == [message["id"]]
    assert handler.seen[0].payload == RequestEscalated(reason="no volunteer", reference=None, raised_by=None)
    [replayed] = rows(intake_app, bus.models.dead_letters)
    assert replayed.replayed_at is not None
    assert bus.replay_dead_letter(letter.id, {"request.escalated": handler}) == "not found"
    assert bus.replay_dead_letter(9999, {"request.escalated": handler}) == "not found"
    assert len(handler.seen) == 1


def test_a_replay_that_fails_again_stays_parked(intake_app: Flask) -> None:
    bus = bus_of(intake_app)
    message = escalated()
    bus.dead_letter(message, "failed 6 times: Boom()")
    [letter] = rows(intake_app, bus.models.dead_letters)

    def still_failing(session: Session, event: Event) -> None:
        raise Boom("not fixed yet")

    with contextlib.suppress(Boom):
        bus.replay_dead_letter(letter.id, {"request.escalated": still_failing})
    parked = [d for d in rows(intake_app, bus.models.dead_letters) if d.replayed_at is None]
    assert [json.loads(d.body)["id"] for d in parked] == [message["id"]]
    handler = Recorder()  # after the fix, a later replay can still deliver it
    assert bus.replay_dead_letter(parked[0].id, {"request.escalated": handler}) == "processed"


# -- the handle_event task's retries (hub_shared.app.consume_with_retries) ----------------------


class FakeRetry(Exception):
    pass


@dataclass
class FakeTask:
    """Just what consume_with_retries uses of a bound Celery task."""

    retries: int
    countdowns: list[int] = field(default_factory=list)

    @property
    def request(self) -> SimpleNamespace:
        return SimpleNamespace(retries=self.retries)

    def retry(self, *, exc: Exception, countdown: int) -> FakeRetry:
        self.countdowns.append(countdown)
        return FakeRetry(exc)


def always_fails(session: Session, event: Event) -> None:
    raise Boom("the database is having a bad day")


@pytest.mark.parametrize("retries", range(MAX_HANDLER_RETRIES))
def test_a_failing_handler_is_retried_with_backoff_below_the_limit(intake_app: Flask, retries: int) -> None:
    task = FakeTask(retries=retries)
    with intake_app.app_context(), pytest.raises(FakeRetry):
        consume_with_retries(task, escalated(), {"request.escalated": always_fails})
    assert task.countdowns == [min(2 ** (retries + 1), 16)]  # (kept under the visibility timeout)
    assert count(intake_app, bus_of(intake_app).models.dead_letters) == 0


def test_a_failing_handler_is_dead_lettered_at_the_limit(intake_app: Flask) -> None:
    task = FakeTask(retries=MAX_HANDLER_RETRIES)
    message = escalated()
    with intake_app.app_context():
        outcome = consume_with_retries(task, message, {"request.escalated": always_fails})
    assert outcome == "dead"
    assert task.countdowns == []
    [letter] = rows(intake_app, bus_of(intake_app).models.dead_letters)
    assert json.loads(letter.body) == message
    assert f"failed {MAX_HANDLER_RETRIES + 1} times" in letter.error and "Boom" in letter.error


def test_a_succeeding_handler_returns_the_bus_outcome(intake_app: Flask) -> None:
    task = FakeTask(retries=0)
    message = escalated()
    with intake_app.app_context():
        assert consume_with_retries(task, message, {}) == "processed"
        assert consume_with_retries(task, message, {}) == "duplicate"
    assert task.countdowns == []
