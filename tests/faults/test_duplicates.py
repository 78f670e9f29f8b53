"""The same thing asked for more than once, under a steady load: an event delivered five times,
one API call sent at once and again (with its Idempotency-Key), one call form sent twice at the
same moment. Each makes one request and one offer (issue 11's third defect: two of each)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import requests
from celery import Celery
from sqlalchemy import create_engine, text

from hub_shared.db import normalise_url
from tests.faults.harness import (
    Submitted,
    assert_nothing_lost_or_doubled,
    offers_by_reference,
    report,
    settle,
    steady_load,
)
from tests.support.hub import HubClient, request_body, wait_until
from tests.support.smtp import SmtpServer


@pytest.fixture
def broker(hub: HubClient) -> Iterator[Celery]:
    """A plain Celery client on the hub's Redis, to put messages on its queues by hand."""
    app = Celery("fault-client", broker=hub.runner.env["REDIS_URL"])
    app.conf.update(task_serializer="json", accept_content=["json"])
    yield app
    app.close()


def outbox_message(hub: HubClient, service: str, type: str, request_id: str) -> dict[str, object]:
    engine = create_engine(normalise_url(hub.runner.env[f"{service.upper()}_DATABASE_URL"]))
    try:
        with engine.connect() as connection:
            [(body,)] = connection.execute(
                text("SELECT body FROM outbox WHERE type = :type AND request_id = :rid"),
                {"type": type, "rid": request_id},
            )
    finally:
        engine.dispose()
    return dict(json.loads(body))


def hidden_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, f"the form has no {name}"
    return found.group(1)


def all_at_once(count: int, send: Callable[[], requests.Response]) -> list[requests.Response]:
    start, answers = threading.Barrier(count), []

    def one() -> None:
        start.wait()
        answers.append(send())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_an_event_delivered_five_times_makes_one_offer(
    hub: HubClient, smtp: SmtpServer, backend: str, broker: Celery
) -> None:
    with steady_load(hub) as load:
        load.wait_for(2)
        wait_until(lambda: offers_by_reference(smtp).get(load.submitted[0].reference), what="the first offer")
        first = load.submitted[0]
        submitted = outbox_message(hub, "intake", "request.submitted", first.id)
        offered = outbox_message(hub, "dispatch", "offer.sent", first.id)
        delivered_at = time.monotonic()
        for _ in range(5):
            broker.send_task("dispatch.handle_event", args=[submitted], queue="dispatch")
            broker.send_task("notify.handle_event", args=[offered], queue="notify")
            broker.send_task("intake.handle_event", args=[offered], queue="intake")
        load.wait_for(6)
    outcome = settle(hub, smtp, load.submitted, fault_ended=delivered_at)
    report("the same events delivered five times", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)


def test_one_api_call_sent_at_once_and_again_makes_one_request(
    hub: HubClient, smtp: SmtpServer, backend: str
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {hub.token('coordinator')}"
    key, body = str(uuid.uuid4()), request_body(details="Sent three times at once, then again")

    def send() -> requests.Response:
        url = hub.url("intake", "/api/v1/requests")
        return session.post(url, json=body, headers={"Idempotency-Key": key}, timeout=10)

    sent_at = time.monotonic()
    answers = all_at_once(3, send)
    time.sleep(0.3)  # "and apart": the probe's 0.3 s
    answers.append(send())
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    made = answers[0].json()
    outcome = settle(
        hub, smtp, [Submitted(key, made["id"], made["reference"], 0.0, sent_at)], fault_ended=sent_at
    )
    report("one API call sent 3 times at once and once more", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)


def test_one_call_form_sent_twice_at_once_makes_one_request(
    hub: HubClient, smtp: SmtpServer, backend: str
) -> None:
    browser = hub.signed_in("coordinator")
    form = browser.get(hub.url("intake", "/"), timeout=10).text
    call = {name: hidden_value(form, name) for name in ("csrf_token", "once")} | {
        "name": "Ada Lovelace",
        "phone": "07700 900555",
        "postcode": "KT2 5AB",
        "address": "3 Double Click Lane, Kingston upon Thames",
        "need": "shopping",
        "urgency": "normal",
        "details": "Sent twice",
        "consent": "yes",
        "decision": "new",
    }
    sent_at = time.monotonic()
    answers = all_at_once(2, lambda: browser.post(hub.url("intake", "/"), data=call, timeout=10))
    assert [a.status_code for a in answers] == [200, 200]  # each followed its redirect
    assert answers[0].url == answers[1].url
    request_id = answers[0].url.split("/requests/")[1].split("?")[0]
    made = hub.request(request_id)
    outcome = settle(
        hub, smtp, [Submitted("form", made["id"], made["reference"], 0.0, sent_at)], fault_ended=sent_at
    )
    report("one call form sent twice at once", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)
