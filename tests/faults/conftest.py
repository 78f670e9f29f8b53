"""The fault suite (`make faults`): one running hub per database backend, shared by every
scenario, its processes supervised as `make run` supervises them (whatever dies is started
again), sending to a real SMTP server and a real HTTP server playing the SMS provider. Each
scenario leaves the hub whole for the next."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.faults.harness import REPORT
from tests.support.databases import backends
from tests.support.hub import HubClient, free_port, running_hub
from tests.support.sms_provider import SmsProvider
from tests.support.smtp import SmtpServer

# The hub as shipped, but with the checks that find a wedged worker quicker, so a scenario
# does not wait out the production limit; the visibility timeout and the stall sweep are the
# shipped ones, since "a killed worker's request is offered within a minute" is about them.
FAULT_ENV = {
    "HUB_CANARY_SECONDS": "3",
    "HUB_CANARY_LIMIT_SECONDS": "15",
    "HUB_RETRY_SECONDS": "2",  # a failed send's first retry: the mail server's minute down ends sooner
    "HUB_SEND_LEASE_SECONDS": "30",
    "HUB_QUIET_HOURS": "off",  # texts go at any hour, so the SMS scenario runs at night too
    "HUB_SMS_PER_SECOND": "5",
}
# 20 open offers each (the most a volunteer may hold), and the offers stay open: room for every
# scenario's requests, about 600 on one hub (25 were used up in one run: its last 20 escalated).
VOLUNTEERS = 50


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("what each fault cost")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sms() -> Iterator[SmsProvider]:
    provider = SmsProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session", params=backends())
def hub(request: pytest.FixtureRequest, smtp: SmtpServer, sms: SmsProvider) -> Iterator[HubClient]:
    env = FAULT_ENV | sms.env() | {"HUB_SMTP_URL": smtp.url}
    with running_hub(request.param, extra_env=env) as client:
        client.backend = request.param  # type: ignore[attr-defined]
        for n in range(VOLUNTEERS):
            client.add_volunteer(email=f"steady.{n}@example.org", max_active_tasks=20)
        stop = threading.Event()
        supervisor = threading.Thread(target=client.runner.supervise, args=(stop,), daemon=True)
        supervisor.start()
        try:
            yield client
        finally:
            stop.set()
            supervisor.join(timeout=10)


@pytest.fixture
def backend(hub: HubClient) -> str:
    return str(hub.backend)  # type: ignore[attr-defined]
