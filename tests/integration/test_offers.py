"""Offers on real workers and beat: expiry moves to the next volunteer and finally escalates;
several offers out at once and simultaneous accepts give exactly one assignment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.databases import backends
from tests.support.hub import HubClient, running_hub
from tests.support.pages import links_in
from tests.support.routing import routing_file
from tests.support.smtp import SmtpServer, body_of

# Urgent offers expire in 2 s (the sweep runs every second); normal ones stay open for an hour.
POLICY = {"HUB_OFFERS_AT_ONCE": "3", "HUB_OFFER_SECONDS": "urgent:2,normal:3600"}


@pytest.fixture(scope="module", params=backends())
def hub(
    request: pytest.FixtureRequest, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HubClient]:
    # No partner groups: a request no volunteer takes goes to the coordinators (test_referrals.py
    # has the partners).
    volunteers_only = routing_file(tmp_path_factory.mktemp("routing"), {}, food_parcel="volunteers")
    env = POLICY | {"HUB_SMTP_URL": smtp.url, "HUB_ROUTING_FILE": str(volunteers_only)}
    with running_hub(request.param, extra_env=env) as client:
        yield client


def test_unanswered_offers_expire_go_to_the_next_volunteer_then_escalate(hub: HubClient) -> None:
    for i in range(4):
        hub.add_volunteer(email=f"walker{i}@example.org", skills=["dog_walking"])
    created = hub.submit_request(need="dog_walking", urgency="urgent")
    escalated = hub.wait_for_status(created["id"], "escalated", timeout=60)
    kinds = [entry["kind"] for entry in escalated["timeline"]]
    assert kinds.count("offer.sent") == 4  # three at once, then the fourth after they expired
    assert kinds.count("offer.expired") == 4
    assert any("no eligible volunteer" in entry["summary"] for entry in escalated["timeline"])


def test_simultaneous_accepts_give_one_assignment_and_the_others_are_told(
    hub: HubClient, smtp: SmtpServer
) -> None:
    # The SMTP server is shared by both databases' hubs: addresses unique to this hub.
    drivers = [f"driver{i}.{hub.runner.ports['intake']}@example.org" for i in range(3)]
    for email in drivers:
        hub.add_volunteer(email=email, skills=["driving"])
    created = hub.submit_request(need="transport")
    accept_links = []
    for email in drivers:
        offer = smtp.mailbox.wait_for(email, created["reference"])
        [link] = [url for url in links_in(body_of(offer)) if "accept" in urlsplit(url).path]
        accept_links.append(link)

    start = threading.Barrier(len(accept_links))
    answers: dict[str, int] = {}

    def accept(email: str, link: str) -> None:
        start.wait()  # all three press "Yes, I can help" at the same moment
        answers[email] = requests.post(link, timeout=30).status_code

    threads = [threading.Thread(target=accept, args=pair) for pair in zip(drivers, accept_links, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(answers.values()) == [200, 409, 409]
    assigned = hub.wait_for_status(created["id"], "assigned")
    assert [entry["kind"] for entry in assigned["timeline"]].count("offer.accepted") == 1
    [winner] = [email for email, status in answers.items() if status == 200]
    smtp.mailbox.wait_for(winner, f"details for {created['reference']}")
    for email in set(drivers) - {winner}:  # the others hear that the offer is withdrawn
        smtp.mailbox.wait_for(email, f"No longer needed: {created['reference']}")
