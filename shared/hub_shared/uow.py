"""The unit of work: the one way any change is made in a service.

`with uow.begin() as session:` opens a transaction; leaving the block commits it (or rolls it
back on an error), and then, if the work published events, wakes the service's relayer, which
sends them on a thread of its own. So a save never waits on Redis, and an event exists if and
only if the change it describes committed (it sits in the outbox until sent; the periodic sweep
sends whatever the relayer could not). `uow.run(use_case, ...)` is the same for one call.

The unit of work and the sweep (`hub_shared.app.sweep`) are the only callers of `Bus.relay`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from hub_shared.db import Database

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Set in a session's `info` by `Bus.publish`: the transaction has events to relay once it commits.
PUBLISHED = "hub.published"


class BackgroundRelayer:
    """Runs `relay` on a daemon thread whenever it is woken, so the caller never waits on the
    broker. A wake during a relay leads to one more relay; nothing is queued in memory (the
    outbox is the queue), so a process that dies loses nothing: the sweep sends it later. A
    short-lived process (a CLI command) calls `flush` before it ends."""

    def __init__(self, relay: Callable[[], int], *, name: str) -> None:
        self._relay = relay
        self._name = name
        self._pid: int | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        # One relay at a time in a process: a flush waits for the thread's pass, then finds
        # nothing left, instead of sending the same rows again.
        self._relaying = threading.Lock()

    def wake(self) -> None:
        self._started().set()

    def flush(self) -> None:
        """Relay now, in the caller's thread: what a command published goes before it ends
        (a daemon thread may not get to it, and an interpreter that is shutting down can no
        longer open a connection to the broker)."""
        self._for_this_process()
        self._relay_all()

    def stop(self) -> None:
        """Relay what is left, then end the thread (tests)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return
        self._stopping = True
        self._wake.set()
        thread.join(timeout=10)

    def _for_this_process(self) -> None:
        # Threads and locks do not survive a fork (gunicorn and Celery fork their workers):
        # each process has its own, made the first time it relays.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._wake = threading.Event()
            self._relaying = threading.Lock()
            self._stopping = False
            self._thread = None

    def _started(self) -> threading.Event:
        self._for_this_process()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"{self._name}-relay", daemon=True)
            self._thread.start()
        return self._wake

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self._relay_all()
            if self._stopping:
                return

    def _relay_all(self) -> None:
        with self._relaying:
            try:
                while self._relay():  # until the outbox is empty, or the broker is down
                    pass
            except Exception:  # the database is unreachable: the sweep sends it later
                log.exception("relay failed in %s", self._name)


class UnitOfWork:
    """A service's transactions: commit, then relay what was published."""

    def __init__(self, db: Database, relayer: BackgroundRelayer) -> None:
        self.db = db
        self.relayer = relayer

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self.db.transaction() as session:
            yield session
            published = session.info.pop(PUBLISHED, False)
        if published:
            self.relayer.wake()

    def run(self, use_case: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one use case in its own transaction and return what it returns."""
        with self.begin() as session:
            return use_case(session, *args, **kwargs)


def mark_published(session: Session) -> None:
    session.info[PUBLISHED] = True
