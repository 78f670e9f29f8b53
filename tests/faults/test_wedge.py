"""The wedge (issue 11's first defect), made certain. A worker acknowledges a task after it ends;
when Redis does not answer within the socket timeout (10 s) the acknowledgement fails
(`Couldn't ack`), and kombu kept that message counted against the worker's prefetch limit for
good. Once every slot of a worker was lost so, it never took another task, though its process
lived on (the probe: 54 of 80 requests without an offer a minute after a 45 s pause). The hub's
workers have two slots, and whether a pause makes the second acknowledgement fail as well
depends on what else the worker's loop is doing (redis-py's reconnections take from 10 s to
more than a minute); a worker with one slot loses it every time. So here a worker of one slot
ends its task while Redis is paused, and a task sent afterwards must run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from hub_shared.config import embedded_redis_url
from hub_shared.redis_server import EmbeddedRedis
from tests.faults.harness import REPORT, LogWatch
from tests.support.hub import wait_until

ROOT = Path(__file__).resolve().parents[2]
PAUSE_SECONDS = 30  # the acknowledgement fails 10 s into it (the socket timeout)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGCONT)  # whatever the test left it in
    server.stop()


@pytest.fixture
def worker_log(tmp_path: Path, redis_server: EmbeddedRedis) -> Iterator[Path]:
    """A worker of wedge_app with one slot, on the embedded Redis; its log."""
    log = tmp_path / "worker.log"
    env = os.environ | {
        "REDIS_URL": embedded_redis_url(tmp_path),
        "HUB_SECRET_KEY": "wedge-test-secret-0123456789",
        "HUB_VAR_DIR": str(tmp_path),
    }
    with log.open("ab") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.faults.wedge_app", "worker",
             "--queues", "dispatch", "--concurrency", "1", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        LogWatch(log).wait_for(r"ready\.", timeout=60)
        yield log
    finally:
        worker.kill()
        worker.wait(timeout=30)


def test_a_worker_whose_acknowledgements_fail_in_a_redis_pause_goes_on_consuming(
    tmp_path: Path, redis_server: EmbeddedRedis, worker_log: Path
) -> None:
    client = Celery("wedge-client", broker=embedded_redis_url(tmp_path))
    client.conf.update(task_serializer="json", accept_content=["json"], broker_connection_retry=True)
    folder = str(tmp_path)
    log = LogWatch(worker_log)
    client.send_task("wedge.wait_for_go", args=[folder, "first"], queue="dispatch")
    wait_until(lambda: (tmp_path / "first.started").exists(), what="the first task under way")
    assert redis_server.process is not None
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        (tmp_path / "go").touch()  # it ends now, and acknowledges, while Redis is paused
        threading.Event().wait(PAUSE_SECONDS)  # the fault's length, held on purpose
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    client.send_task("wedge.wait_for_go", args=[folder, "second"], queue="dispatch")
    # A wedged worker never takes it; one that goes on takes it at once (the first, whose
    # acknowledgement failed, comes back after the visibility timeout, 30 s, and ends at once).
    wait_until(lambda: (tmp_path / "second.started").exists(), timeout=90, what="the second task taken")
    failed = len(log.lines(r"Couldn't ack"))
    assert failed == 1, "the pause met no acknowledgement"
    client.close()
    REPORT.append(
        f"the wedge: an acknowledgement failed in a {PAUSE_SECONDS} s Redis pause; "
        "the worker took the next task"
    )
