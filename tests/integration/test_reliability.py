"""Nothing is lost and nothing happens twice: real Celery workers and beat on a real Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from celery import Celery
from sqlalchemy import bindparam, create_engine, text

from hub_shared.config import SERVICES
from hub_shared.db import UTCDateTime, normalise_url
from hub_shared.events import new_event
from tests.support.databases import backends
from tests.support.events import request_submitted_payload
from tests.support.hub import HubClient, running_hub, wait_until


@pytest.fixture(scope="module", params=backends())
def hub(request: pytest.FixtureRequest) -> Iterator[HubClient]:
    with running_hub(request.param) as client:
        client.add_volunteer(email="reliable@example.org", max_active_tasks=20)  # many offers stay open here
        yield client


@pytest.fixture(scope="module")
def broker(hub: HubClient) -> Iterator[Celery]:
    """A plain Celery client on the hub's Redis, to put messages on its queues by hand."""
    app = Celery("test-client", broker=hub.runner.env["REDIS_URL"])
    app.conf.update(task_serializer="json", accept_content=["json"])
    yield app
    app.close()


def rows(hub: HubClient, service: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(normalise_url(hub.runner.env[f"{service.upper()}_DATABASE_URL"]))
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


def outbox_message(hub: HubClient, service: str, type: str, request_id: str) -> dict[str, Any]:
    [(body,)] = rows(
        hub,
        service,
        "SELECT body FROM outbox WHERE type = :type AND request_id = :rid",
        type=type,
        rid=request_id,
    )
    return json.loads(body)


def processed_everything_before(hub: HubClient) -> None:
    """Each worker runs one task at a time in queue order: once a later request has gone all the
    way to its offer email, everything queued before it has been handled."""
    marker = hub.submit_request()
    wait_until(lambda: hub.messages(marker["id"]), what="the marker request's offer email")


def test_a_request_submitted_while_redis_is_down_is_kept_and_dispatched_once_it_is_back(
    hub: HubClient,
) -> None:
    redis = hub.runner.redis
    assert redis is not None
    redis.stop()
    try:
        started = time.monotonic()
        created = hub.submit_request()
        answered_in = time.monotonic() - started
        assert created["status"] == "submitted"
        assert answered_in < 5, f"answering took {answered_in:.1f}s with Redis down"
        time.sleep(2)  # several sweeps run (and fail) while Redis is away
        assert hub.request(created["id"])["status"] == "submitted"
        [(published_at,)] = rows(
            hub, "intake", "SELECT published_at FROM outbox WHERE request_id = :rid", rid=created["id"]
        )
        assert published_at is None  # kept in the outbox, not lost
        for service in SERVICES:  # not ready, and they say why (with no token)
            answer = requests.get(hub.url(service, "/readyz"), timeout=10)
            assert (answer.status_code, answer.json()["failing"]) == (503, ["redis"])
    finally:
        redis.start()
    hub.wait_for_status(created["id"], "offered", timeout=60)
    wait_until(lambda: hub.messages(created["id"]), timeout=30, what="the offer email")
    for service in SERVICES:
        assert requests.get(hub.url(service, "/readyz"), timeout=10).status_code == 200


def test_a_request_is_answered_while_redis_hangs(hub: HubClient) -> None:
    """Redis stopped in its tracks (SIGSTOP: it accepts connections and never answers): the
    request is recorded and answered all the same, because sending its event is the relayer's
    work, not the request's (it used to wait out the socket timeout, and the client gave up on
    a request that was in fact recorded). Redis is resumed only once the answer is in, so an
    answer that waited on Redis would never come (the client's 10 s timeout fails the test)."""
    redis = hub.runner.redis
    assert redis is not None and redis.process is not None
    os.kill(redis.process.pid, signal.SIGSTOP)
    try:
        created = hub.submit_request()
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)
    assert created["status"] == "submitted"
    hub.wait_for_status(created["id"], "offered", timeout=60)


def test_an_event_delivered_twice_changes_nothing_and_sends_nothing_twice(
    hub: HubClient, broker: Celery
) -> None:
    created = hub.submit_request()
    wait_until(lambda: hub.messages(created["id"]), what="the offer email")
    submitted = outbox_message(hub, "intake", "request.submitted", created["id"])
    offer_sent = outbox_message(hub, "dispatch", "offer.sent", created["id"])
    for _ in range(2):
        broker.send_task("dispatch.handle_event", args=[submitted], queue="dispatch")
        broker.send_task("notify.handle_event", args=[offer_sent], queue="notify")
        broker.send_task("intake.handle_event", args=[offer_sent], queue="intake")
    processed_everything_before(hub)

    assert len(rows(hub, "dispatch", "SELECT id FROM offers WHERE request_id = :rid", rid=created["id"])) == 1
    assert sorted(m["template"] for m in hub.messages(created["id"])) == ["offer", "offer_reminder"]
    timeline = hub.request(created["id"])["timeline"]
    assert [entry["kind"] for entry in timeline].count("offer.sent") == 1


@pytest.mark.parametrize(
    "message",
    [
        "not an event at all",
        {
            "id": "no-payload",
            "type": "request.submitted",
            "version": 1,
            "occurred_at": "2026-01-01T00:00:00+00:00",
        },
        {
            "id": "bad-need",
            "type": "request.submitted",
            "version": 1,
            "occurred_at": datetime.now(UTC).isoformat(),
            "request_id": "r-1",
            "payload": {
                "reference": "AAA-AAA",
                "need": "juggling",
                "urgency": "normal",
                "requester": {"name": "X"},
            },
        },
        {
            "id": "unknown-type",
            "type": "request.teleported",
            "version": 1,
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "payload": {},
        },
    ],
    ids=["not-an-object", "no-payload", "bad-need", "unknown-type"],
)
def test_a_malformed_event_lands_in_the_dead_letter_table(
    hub: HubClient, broker: Celery, message: Any
) -> None:
    before = rows(hub, "dispatch", "SELECT count(*) FROM dead_letters")[0][0]
    jobs_before = rows(hub, "dispatch", "SELECT count(*) FROM jobs")[0][0]
    broker.send_task("dispatch.handle_event", args=[message], queue="dispatch")
    wait_until(
        lambda: rows(hub, "dispatch", "SELECT count(*) FROM dead_letters")[0][0] == before + 1,
        what="a dead letter",
    )
    [(body, error)] = rows(hub, "dispatch", "SELECT body, error FROM dead_letters ORDER BY id DESC LIMIT 1")
    assert json.loads(body) == message  # kept whole, for an admin to fix and replay
    assert "invalid event" in error
    assert rows(hub, "dispatch", "SELECT count(*) FROM jobs")[0][0] == jobs_before
    assert requests.get(hub.url("dispatch", "/healthz"), timeout=5).status_code == 200


def test_an_admin_lists_a_dead_letter_and_replays_it_once_the_cause_is_fixed(hub: HubClient) -> None:
    """A request whose handling kept failing sits in the dead-letter table; replayed, it goes on."""
    event = new_event(
        "request.submitted", request_submitted_payload(reference="RPL-AY3"), request_id=str(uuid.uuid4())
    )
    insert = text(
        "INSERT INTO dead_letters (event_id, type, body, error, created_at)"
        " VALUES (:id, :type, :body, :error, :at)"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    engine = create_engine(normalise_url(hub.runner.env["DISPATCH_DATABASE_URL"]))
    with engine.begin() as connection:
        connection.execute(
            insert,
            {
                "id": event.id,
                "type": event.type,
                "body": json.dumps(event.to_message()),
                "error": "failed 6 times: boom",
                "at": datetime.now(UTC),
            },
        )
        letter_id = connection.scalar(text("SELECT max(id) FROM dead_letters"))
    engine.dispose()

    listing = hub_command(hub, "dead-letters", "dispatch")
    assert f"{letter_id}\t" in listing and "failed 6 times: boom" in listing
    assert "Margaret" not in listing  # the body, with people's details, is never printed

    hub_command(hub, "dead-letters", "dispatch", "--replay", str(letter_id))
    wait_until(lambda: hub.messages(event.request_id), what="the replayed request's offer email")
    assert "replayed" in hub_command(hub, "dead-letters", "dispatch")


def hub_command(hub: HubClient, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hub_shared.cli", *args],
        env=hub.runner.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
