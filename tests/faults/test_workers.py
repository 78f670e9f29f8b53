"""Workers killed with SIGKILL in the middle of a task, and started again by the supervisor:
the task they held comes back from Redis after the visibility timeout, so its request is
offered within a minute (issue 11's second defect: it waited 900 s), and offered once."""

from __future__ import annotations

import time

from tests.faults.harness import (
    LogWatch,
    assert_nothing_lost_or_doubled,
    dispatch_database_held,
    report,
    settle,
    steady_load,
)
from tests.support.hub import HubClient, wait_until
from tests.support.smtp import SmtpServer


def restarted(hub: HubClient, name: str, killed_pid: int) -> bool:
    popen = hub.runner.processes[name].popen
    return popen is not None and popen.pid != killed_pid and popen.poll() is None


def kill_worker(hub: HubClient, name: str) -> int:
    popen = hub.runner.processes[name].popen
    assert popen is not None
    pid = popen.pid
    hub.runner.kill(name)
    return pid


def test_a_dispatch_worker_killed_mid_task_has_its_request_offered_within_a_minute(
    hub: HubClient, smtp: SmtpServer, backend: str
) -> None:
    with steady_load(hub) as load:
        load.wait_for(4)
        with dispatch_database_held(hub, backend):
            log = LogWatch(hub.runner.logs / "dispatch-worker.log")
            log.wait_for(r"Task dispatch\.handle_event\[.+\] received")  # it holds a request now
            killed_at = time.monotonic()
            killed = kill_worker(hub, "dispatch-worker")
        wait_until(lambda: restarted(hub, "dispatch-worker", killed), what="the worker started again")
        load.wait_for(6)
    outcome = settle(hub, smtp, load.submitted, fault_ended=killed_at)
    report("dispatch worker killed mid-task", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)
    assert outcome.recovered_in < 60


def test_a_notify_worker_killed_mid_send_sends_the_offer_once_within_a_minute(
    hub: HubClient, smtp: SmtpServer, backend: str
) -> None:
    mailbox = smtp.mailbox
    mailbox.hung.clear()
    mailbox.release.clear()
    with steady_load(hub) as load:
        load.wait_for(2)
        mailbox.hang_next = True  # the mail server stops answering after the next recipient
        assert mailbox.hung.wait(timeout=30), "no offer was sent"
        killed_at = time.monotonic()
        killed = kill_worker(hub, "notify-worker")
        mailbox.release.set()  # (the dead worker's conversation ends; nothing was delivered by it)
        wait_until(lambda: restarted(hub, "notify-worker", killed), what="the worker started again")
        load.wait_for(6)
    outcome = settle(hub, smtp, load.submitted, fault_ended=killed_at)
    report("notify worker killed mid-send", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)
    assert outcome.recovered_in < 60
