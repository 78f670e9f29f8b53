"""The unit of work: commit, then relay on the relayer's thread (the caller never waits on the
broker); nothing relayed for work that rolled back or published nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from hub_shared.celery import make_celery
from hub_shared.config import Settings
from hub_shared.db import Database, migrate
from hub_shared.events import Event
from hub_shared.redis_server import EmbeddedRedis
from hub_shared.uow import BackgroundRelayer, UnitOfWork
from intake.models import BUS_MODELS
from tests.unit.conftest import service_env

WAIT = 10  # seconds: a bound for a thread on a busy machine, never a sleep


class BlockingRelay:
    """A relay that waits until the test lets it go, and counts its calls."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        self.started.set()
        assert self.release.wait(WAIT), "the test never released the relay"
        return 0


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[Bus]:
    env = service_env(tmp_path, "intake")
    migrate("intake", env["INTAKE_DATABASE_URL"])
    settings = Settings.from_env("intake", env)
    db = Database(settings.database_url)
    made = Bus(service="intake", db=db, celery=make_celery(settings), models=BUS_MODELS)
    yield made
    made.uow.relayer.stop()
    db.dispose()


def with_relay(bus: Bus, relay: BlockingRelay) -> UnitOfWork:
    return UnitOfWork(bus.db, BackgroundRelayer(relay, name="test"))


def publish_one(bus: Bus) -> Callable[[Session], Event]:
    def use_case(session: Session) -> Event:
        return bus.publish(session, "request.escalated", {"reason": "no volunteer"}, request_id="r-1")

    return use_case


def test_a_commit_that_published_returns_before_the_relay_has_run(bus: Bus) -> None:
    relay = BlockingRelay()
    uow = with_relay(bus, relay)
    event = uow.run(publish_one(bus))  # returns although the relay is stuck
    assert relay.started.wait(WAIT), "the relayer was not woken"
    Outbox = bus.models.outbox
    with bus.db.sessions() as session:
        assert session.scalars(select(Outbox.event_id)).all() == [event.id]  # committed first
    relay.release.set()
    uow.relayer.stop()


def test_work_that_rolls_back_or_publishes_nothing_wakes_no_relay(bus: Bus) -> None:
    relay = BlockingRelay()
    relay.release.set()
    uow = with_relay(bus, relay)
    with pytest.raises(RuntimeError), uow.begin() as session:
        publish_one(bus)(session)
        raise RuntimeError("the change failed")
    uow.run(lambda session: session.execute(select(1)))
    uow.relayer.stop()
    assert relay.calls == 0


def test_the_relayer_sends_what_is_left_when_stopped(bus: Bus) -> None:
    """A CLI command exits right after its commit: stopping (at exit) relays first."""
    relay = BlockingRelay()
    relay.release.set()
    uow = with_relay(bus, relay)
    uow.run(publish_one(bus))
    uow.relayer.stop()
    assert relay.calls >= 1


def test_without_a_broker_the_event_waits_in_the_outbox(bus: Bus) -> None:
    """The real relayer against a broker that is down: the caller is unaffected, and the row
    stays unsent for the sweep."""
    event = bus.uow.run(publish_one(bus))
    bus.uow.relayer.stop()  # (waits for its relay to give up)
    Outbox = bus.models.outbox
    with bus.db.sessions() as session:
        row = session.scalars(select(Outbox).where(Outbox.event_id == event.id)).one()
    assert row.published_at is None


def test_a_short_lived_process_relays_what_it_published_before_it_ends(tmp_path: Path) -> None:
    """A CLI command (`hub users create`, `hub token revoke`) publishes and ends at once: its
    event reaches a real Redis before the process ends, not at the next sweep."""
    redis = EmbeddedRedis(tmp_path / "redis")
    redis.start()
    try:
        env = service_env(tmp_path, "intake") | {"REDIS_URL": redis.url}
        migrate("intake", env["INTAKE_DATABASE_URL"])
        # As `hub users create` runs it: intake adds the person and publishes person.changed.
        command = [sys.executable, "-m", "flask", "--app", "intake", "users", "create"]
        command += ["--email", "ada@example.org", "--role", "coordinator"]
        done = subprocess.run(command, env=os.environ | env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "relay stopped" not in done.stderr, done.stderr
        db = Database(Settings.from_env("intake", env).database_url)
        with db.sessions() as session:
            [sent_at] = session.scalars(select(BUS_MODELS.outbox.published_at)).all()
        db.dispose()
        assert sent_at is not None
        assert redis.client().llen("notify") == 1  # on notify's queue, for its handle_event
    finally:
        redis.stop()


def database_file(bus: Bus) -> str:
    return bus.db.url.split("///", 1)[1]


def test_a_unit_of_work_on_sqlite_holds_the_write_lock_from_its_start(bus: Bus) -> None:
    """Two units of work that read a request, check its status and write (two coordinators
    closing it at once) must take turns: on SQLite the lock is taken at BEGIN, before the read,
    so no other writer can even begin meanwhile. A plain read does not take it."""
    with bus.uow.begin() as session:
        session.execute(select(1))  # read only, so far
        other = sqlite3.connect(database_file(bus), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with bus.db.transaction() as session:  # (the relay's and the sweep's: they read, then write)
        session.execute(select(1))
        other = sqlite3.connect(database_file(bus), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with bus.db.sessions() as session:
        session.execute(select(1))
        other = sqlite3.connect(database_file(bus), timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # free: reading took no lock
        other.execute("ROLLBACK")
        other.close()
