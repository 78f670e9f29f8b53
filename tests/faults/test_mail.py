"""The mail server down for a minute, then back; a mail server that answers QUIT with 421 or
554 after accepting each message (issue 11's fifth defect: every offer in the window was
delivered twice). Every offer arrives once, none is marked failed."""

from __future__ import annotations

import threading
import time

import pytest

from tests.faults.harness import assert_nothing_lost_or_doubled, report, settle, steady_load
from tests.support.hub import HubClient
from tests.support.smtp import SmtpServer


def failed_offers(hub: HubClient) -> list[dict[str, object]]:
    return [m for m in hub.messages() if m["template"] == "offer" and m["status"] == "failed"]


def test_the_mail_server_down_for_a_minute(hub: HubClient, smtp: SmtpServer, backend: str) -> None:
    with steady_load(hub) as load:
        load.wait_for(2)
        smtp.stop()
        try:
            threading.Event().wait(60)  # the fault's length, held on purpose
        finally:
            smtp.start_again()
        back_at = time.monotonic()
        load.wait_for(6)
    outcome = settle(hub, smtp, load.submitted, fault_ended=back_at)
    report("mail server down for a minute", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)
    assert failed_offers(hub) == []


@pytest.mark.parametrize("answer", ["421 Service closing", "554 Transaction failed"])
def test_a_mail_server_that_answers_quit_with_an_error(
    hub: HubClient, smtp: SmtpServer, backend: str, answer: str
) -> None:
    with steady_load(hub) as load:
        load.wait_for(2)
        smtp.mailbox.quit_reply = answer
        started = time.monotonic()
        try:
            load.wait_for(10)
        finally:
            smtp.mailbox.quit_reply = None
    outcome = settle(hub, smtp, load.submitted, fault_ended=started)
    report(f"mail server answering QUIT with {answer[:3]}", backend, outcome)
    assert_nothing_lost_or_doubled(outcome)
    assert failed_offers(hub) == []
