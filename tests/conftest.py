"""Fixtures shared by the integration and end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hub import free_port
from tests.support.smtp import SmtpServer


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) for a module's hubs to send to; tests read its mailbox."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()
