"""Redis paused (SIGSTOP) and killed under a steady load. While it is away the API still
answers within a second (the relay runs on its own thread, issue 11's fourth defect); a worker
whose acknowledgement failed during the pause goes on consuming (the first defect, made
certain in test_wedge.py); nothing is lost and nothing is sent twice."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack

from tests.faults.harness import (
    Load,
    LogWatch,
    WorkerLogs,
    assert_nothing_lost_or_doubled,
    dispatch_database_held,
    report,
    settle,
    steady_load,
)
from tests.support.hub import HubClient, wait_until
from tests.support.smtp import SmtpServer


def redis_pid(hub: HubClient) -> int:
    redis = hub.runner.redis
    assert redis is not None and redis.process is not None
    return redis.process.pid


def pause_redis(
    hub: HubClient, seconds: float, *, when: Callable[[], object] | None = None
) -> tuple[float, float]:
    """Stop Redis for `seconds` (the fault's length, held on purpose), after `when` returns;
    (paused at, resumed at)."""
    if when is not None:
        when()
    pid = redis_pid(hub)
    os.kill(pid, signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        threading.Event().wait(seconds)
    finally:
        os.kill(pid, signal.SIGCONT)
    return paused_at, time.monotonic()


def slowest_answer_between(load: Load, start: float, end: float) -> float:
    during = [s.answered_in for s in load.submitted if start <= s.at <= end + 1]
    assert during, "no request was answered while Redis was paused"
    return max(during)


def test_redis_paused_while_a_worker_acknowledges_a_task(
    hub: HubClient, smtp: SmtpServer, backend: str
) -> None:
    mailbox = smtp.mailbox
    mailbox.hung.clear()
    mailbox.release.clear()

    def mid_send() -> None:
        mailbox.hang_next = True  # notify's next send waits on the mail server...
        assert mailbox.hung.wait(timeout=30), "no offer was sent"
        # ...and finishes once Redis is paused: its acknowledgement meets the pause.
        threading.Timer(1.0, mailbox.release.set).start()

    workers = WorkerLogs(hub)
    with steady_load(hub) as load:
        load.wait_for(2)
        paused_at, resumed_at = pause_redis(hub, 30, when=mid_send)
        load.wait_for(10)
    outcome = settle(hub, smtp, load.submitted, fault_ended=resumed_at)
    slowest = slowest_answer_between(load, paused_at, resumed_at)
    report(
        "Redis paused 30 s mid-send",
        backend,
        outcome,
        slowest_POST_while_paused=f"{slowest:.2f} s",
        **workers.summary(),
    )
    assert_nothing_lost_or_doubled(outcome)
    assert slowest < 1.0 and load.failures == 0


def test_redis_paused_for_a_minute_as_a_sweep_starts(hub: HubClient, smtp: SmtpServer, backend: str) -> None:
    """The wedge as the probe found it: a dispatch task (a sweep, or an event) ends, and
    acknowledges, while Redis is paused for a minute; the acknowledgement times out, and the
    worker stopped taking tasks for good once both its slots were lost so. Now it goes on."""
    workers = WorkerLogs(hub)
    with steady_load(hub) as load:
        load.wait_for(2)
        with ExitStack() as held:
            log = LogWatch(hub.runner.logs / "dispatch-worker.log")
            held.enter_context(dispatch_database_held(hub, backend))  # dispatch's next task waits mid-way

            def task_under_way() -> None:
                # (a sweep, or an event: every dispatch task writes to its database)
                log.wait_for(r"Task dispatch\.(sweep|handle_event)\[.+\] received", timeout=45)
                threading.Timer(0.5, held.close).start()  # it goes on, and ends, in the pause

            paused_at, resumed_at = pause_redis(hub, 60, when=task_under_way)
        load.wait_for(10)
    outcome = settle(hub, smtp, load.submitted, fault_ended=resumed_at)
    slowest = slowest_answer_between(load, paused_at, resumed_at)
    report(
        "Redis paused 60 s as a dispatch task ends",
        backend,
        outcome,
        slowest_POST_while_paused=f"{slowest:.2f} s",
        **workers.summary(),
    )
    assert_nothing_lost_or_doubled(outcome)
    assert slowest < 1.0 and load.failures == 0
    # (Whether the pause meets an acknowledgement is reported, not asserted: it does in some
    # runs only. test_wedge.py makes two fail every time.)


def test_redis_killed_is_started_again_with_what_it_held(
    hub: HubClient, smtp: SmtpServer, backend: str
) -> None:
    with steady_load(hub) as load:
        load.wait_for(4)
        killed = redis_pid(hub)
        os.kill(killed, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: redis_pid(hub) != killed, what="Redis started again by the supervisor")
        load.wait_for(10)
    outcome = settle(hub, smtp, load.submitted, fault_ended=killed_at)
    report("Redis killed and started again", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)
