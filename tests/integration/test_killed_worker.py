"""A notify worker killed in the middle of a send (its mail server stopped answering after the
recipient) is restarted, as `make run` and compose restart it; the message goes back to the
queue when its send lease runs out and arrives, once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.hub import HubClient, running_hub, wait_until
from tests.support.smtp import SmtpServer


@pytest.fixture
def hub(smtp: SmtpServer) -> Iterator[HubClient]:
    env = {"HUB_SMTP_URL": smtp.url, "HUB_SEND_LEASE_SECONDS": "3"}
    with running_hub("sqlite", extra_env=env) as client:
        stop = threading.Event()
        supervisor = threading.Thread(target=client.runner.supervise, args=(stop,), daemon=True)
        supervisor.start()  # restarts whatever dies, as `make run` does
        try:
            yield client
        finally:
            stop.set()
            supervisor.join(timeout=10)


def test_a_worker_killed_mid_send_is_restarted_and_the_message_arrives_once(
    hub: HubClient, smtp: SmtpServer
) -> None:
    walker = "killed.walker@example.org"
    smtp.mailbox.hang_first.add(walker)
    hub.add_volunteer(email=walker, skills=["dog_walking"])
    created = hub.submit_request(need="dog_walking")
    assert smtp.mailbox.hung.wait(timeout=30), "the offer was never sent"
    worker = hub.runner.processes["notify-worker"]
    assert worker.popen is not None
    killed_pid = worker.popen.pid
    os.killpg(killed_pid, signal.SIGKILL)  # mid-conversation: the mail server has the recipient only
    wait_until(
        lambda: worker.popen is not None and worker.popen.pid != killed_pid,
        what="the worker to be restarted",
    )
    smtp.mailbox.wait_for(walker, created["reference"], timeout=60)
    time.sleep(4)  # another lease: a second copy would come now
    assert len([m for m in smtp.mailbox.to(walker) if created["reference"] in str(m["Subject"])]) == 1
    [offer] = [m for m in hub.messages(created["id"]) if m["template"] == "offer"]
    assert (offer["status"], offer["attempts"]) == ("sent", 2)
