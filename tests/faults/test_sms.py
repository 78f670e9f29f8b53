"""The SMS provider down for a minute (it answers 503), then back, while requests for
volunteers who prefer texts come in: every offer is texted once when it is back, none is
marked failed."""

from __future__ import annotations

import itertools
import threading
import time

from tests.faults.harness import (
    assert_nothing_lost_or_doubled,
    report,
    settle,
    steady_load,
    texted_offers_by_reference,
)
from tests.faults.test_mail import failed_offers
from tests.support.hub import HubClient
from tests.support.sms_provider import SmsProvider
from tests.support.smtp import SmtpServer

TEXTERS = 8  # drivers who prefer texts; the load asks only for transport, which only they give
_numbers = itertools.count(1)


def test_the_sms_provider_down_for_a_minute(
    hub: HubClient, smtp: SmtpServer, sms: SmsProvider, backend: str
) -> None:
    for _ in range(TEXTERS):
        n = next(_numbers)
        hub.add_volunteer(
            email=f"driver.{backend}.{n}@example.org",
            phone=f"+4477009{n:05d}",
            preferred_channel="sms",
            skills=["driving"],
            max_active_tasks=20,
        )
    refused_before = sms.refused
    with steady_load(hub, rate=1.0, need="transport") as load:
        load.wait_for(2)
        sms.down = True
        try:
            threading.Event().wait(60)  # the fault's length, held on purpose
        finally:
            sms.down = False
        back_at = time.monotonic()
        load.wait_for(4)
    outcome = settle(
        hub, smtp, load.submitted, fault_ended=back_at, offers_made=lambda: texted_offers_by_reference(sms)
    )
    report("SMS provider down for a minute", backend, outcome, texts_refused=sms.refused - refused_before)
    assert_nothing_lost_or_doubled(outcome)
    assert sms.refused > refused_before  # the provider was asked while it was down
    assert failed_offers(hub) == []
