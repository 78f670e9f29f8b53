"""What every fault scenario does: submit requests at a steady rate while a fault is injected
into the real processes, then check that every request reached its offer, once, and say what
it cost (printed at the end of the run: submitted, lost, doubled, recovery time)."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from tests.support.hub import HubClient, request_body, wait_until
from tests.support.sms_provider import SmsProvider
from tests.support.smtp import SmtpServer

REPORT: list[str] = []  # one line per scenario, printed by conftest's terminal summary
OFFER_SUBJECT = "Can you help?"
TEXTED_OFFER = "Community Help Hub: can you help with"


@dataclass
class Submitted:
    key: str
    id: str
    reference: str
    answered_in: float  # seconds, for the answer that recorded it
    at: float  # time.monotonic() when it was answered


@dataclass
class Load:
    """Requests sent at `rate` a second on a thread of their own. Each has its own
    Idempotency-Key and is sent again with it until answered, as a client should: so a
    time-out never makes a second request, and a request is never given up."""

    hub: HubClient
    rate: float = 2.0
    need: str = "shopping"
    submitted: list[Submitted] = field(default_factory=list)
    failures: int = 0  # answers that were not 201 (each sent again)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        client = requests.Session()
        client.headers["Authorization"] = f"Bearer {self.hub.token('coordinator')}"
        url = self.hub.url("intake", "/api/v1/requests")
        next_at = time.monotonic()
        while not self._stop.is_set():
            key = str(uuid.uuid4())
            body = request_body(need=self.need, details=f"Load {len(self.submitted) + 1}")
            while True:
                started = time.monotonic()
                try:
                    answer = client.post(url, json=body, headers={"Idempotency-Key": key}, timeout=10)
                except requests.RequestException:
                    answer = None
                if answer is not None and answer.status_code == 201:
                    made = answer.json()
                    now = time.monotonic()
                    self.submitted.append(Submitted(key, made["id"], made["reference"], now - started, now))
                    break
                self.failures += 1
                if self._stop.wait(0.5):
                    return
            next_at += 1 / self.rate
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def count(self) -> int:
        return len(self.submitted)

    def wait_for(self, more: int, timeout: float = 60) -> None:
        """Until `more` requests beyond those already in have been answered."""
        target = self.count() + more
        wait_until(lambda: self.count() >= target, timeout=timeout, what=f"{more} more requests answered")


@contextmanager
def steady_load(hub: HubClient, rate: float = 2.0, need: str = "shopping") -> Iterator[Load]:
    load = Load(hub, rate, need)
    thread = threading.Thread(target=load.run, name="load", daemon=True)
    thread.start()
    try:
        yield load
    finally:
        load._stop.set()
        thread.join(timeout=30)


@dataclass
class Outcome:
    submitted: int
    lost: list[str]  # references with no offer, or not offered, each with its status
    doubled: list[str]  # references offered more than once, or recorded twice
    recovered_in: float  # seconds from the fault's end to the last offer


def offers_by_reference(smtp: SmtpServer) -> dict[str, list[float]]:
    """The offers the mail server took, by request reference: when each copy arrived."""
    found: dict[str, list[float]] = {}
    for at, message in list(smtp.mailbox.arrived):
        subject = str(message["Subject"])
        match = re.search(r"\(([A-Z0-9]{3}-[A-Z0-9]{3})\)$", subject)
        if subject.startswith(OFFER_SUBJECT) and match:
            found.setdefault(match.group(1), []).append(at)
    return found


def texted_offers_by_reference(provider: SmsProvider) -> dict[str, list[float]]:
    """The offers the SMS provider took, by request reference (its reminders are not counted)."""
    found: dict[str, list[float]] = {}
    for sent in list(provider.sent):
        match = re.search(r"\(([A-Z0-9]{3}-[A-Z0-9]{3}), \w+\)\?", sent.body)
        if sent.body.startswith(TEXTED_OFFER) and match:
            found.setdefault(match.group(1), []).append(sent.at)
    return found


def settle(
    hub: HubClient,
    smtp: SmtpServer,
    submitted: list[Submitted],
    *,
    fault_ended: float,
    timeout: float = 150,
    offers_made: Callable[[], dict[str, list[float]]] | None = None,
) -> Outcome:
    """Wait until every request has its offer and intake says `offered` (or the time is up),
    then count. The offers are those the mail server took, unless `offers_made` says where else
    to look. (An offer can arrive before intake has heard of it: both are waited for.)"""
    offers_made = offers_made or (lambda: offers_by_reference(smtp))
    references = [s.reference for s in submitted]
    ids = {s.id for s in submitted}

    def all_offered() -> bool:
        offers = offers_made()
        if not all(reference in offers for reference in references):
            return False
        statuses = request_statuses(hub, ids)
        return all(statuses.get(i) == "offered" for i in ids)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all_offered():
        time.sleep(0.5)
    # A second copy could only come from a send still under way: wait until none is.
    wait_until(lambda: not offers_in_flight(hub), timeout=60, what="no offer being sent")
    offers = offers_made()
    recorded = Counter(s.id for s in submitted)
    doubled = [r for r in references if len(offers.get(r, [])) > 1]
    doubled += [i for i, n in recorded.items() if n > 1]
    statuses = request_statuses(hub, ids)
    # Each lost one with its status, to say where it stopped (submitted, escalated, ...).
    lost = [
        f"{s.reference} ({statuses.get(s.id)})"
        for s in submitted
        if s.reference not in offers or statuses.get(s.id) != "offered"
    ]
    last = max((min(offers[r]) for r in references if r in offers), default=fault_ended)
    return Outcome(len(submitted), lost, doubled, max(0.0, last - fault_ended))


def offers_in_flight(hub: HubClient) -> bool:
    return any(m["template"] == "offer" and m["status"] in ("queued", "sending") for m in hub.messages())


def request_statuses(hub: HubClient, ids: set[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    page = 1
    while True:
        answer = hub.api.get(
            hub.url("intake", "/api/v1/requests"), params={"page": page, "page_size": 200}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()
        statuses |= {r["id"]: r["status"] for r in found if r["id"] in ids}
        if len(found) < 200 or len(statuses) == len(ids):
            return statuses
        page += 1


def report(name: str, backend: str, outcome: Outcome, **measured: Any) -> None:
    extra = "".join(f", {k.replace('_', ' ')} {v}" for k, v in measured.items())
    REPORT.append(
        f"{name} [{backend}]: submitted {outcome.submitted}, lost {len(outcome.lost)}, "
        f"doubled {len(outcome.doubled)}, recovered in {outcome.recovered_in:.1f} s{extra}"
    )


def assert_nothing_lost_or_doubled(outcome: Outcome) -> None:
    assert outcome.submitted > 0
    assert outcome.lost == [], f"lost: {outcome.lost}"
    assert outcome.doubled == [], f"doubled: {outcome.doubled}"


class LogWatch:
    """New lines of a process's log, from the moment this is made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def lines(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return [line for line in log.read().decode(errors="replace").splitlines() if regex.search(line)]

    def wait_for(self, pattern: str, timeout: float = 30, count: int = 1) -> list[str]:
        """Until `count` new lines match; those lines."""
        return wait_until(
            lambda: (found := self.lines(pattern)) and len(found) >= count and found,
            timeout=timeout,
            interval=0.02,
            what=f"{count} of {pattern!r} in {self.path.name}",
        )


@contextmanager
def dispatch_database_held(hub: HubClient, backend: str) -> Iterator[None]:
    """dispatch's handlers and sweep wait while this is held: they cannot record an event as
    seen, or prune the ones seen long ago. (A task held up so, mid-way, for the fault to meet.)"""
    url = hub.runner.env["DISPATCH_DATABASE_URL"]
    if backend == "sqlite":
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
        lite.execute("BEGIN IMMEDIATE")  # the write lock: every writer waits
        try:
            yield
        finally:
            lite.execute("ROLLBACK")
            lite.close()
        return
    with psycopg.connect(url) as connection:
        connection.execute("LOCK TABLE inbox IN EXCLUSIVE MODE")  # reads go on; inserts wait
        yield
        connection.rollback()


class WorkerLogs:
    """What the workers logged about their broker since this was made: failed acknowledgements
    and exits by the canary (hub_shared.canary)."""

    def __init__(self, hub: HubClient) -> None:
        self.watches = [
            LogWatch(hub.runner.logs / f"{s}-worker.log") for s in ("intake", "dispatch", "notify")
        ]

    def count(self, pattern: str) -> int:
        return sum(len(watch.lines(pattern)) for watch in self.watches)

    def summary(self) -> dict[str, int]:
        return {
            "failed_acks": self.count(r"Couldn't ack"),
            "workers_restarted_by_canary": self.count(r"stopped consuming; exiting"),
        }
