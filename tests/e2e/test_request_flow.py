"""A request for help goes all the way round the running hub: real web servers, real Celery
workers and beat, an embedded real Redis, a real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.databases import backends
from tests.support.hub import HubClient, running_hub
from tests.support.pages import links_in, submit_the_form
from tests.support.smtp import SmtpServer, body_of


@pytest.fixture(scope="module", params=backends())
def hub(request: pytest.FixtureRequest, smtp: SmtpServer) -> Iterator[HubClient]:
    with running_hub(request.param, extra_env={"HUB_SMTP_URL": smtp.url}) as client:
        yield client


def link_with(text: str, word: str) -> str:
    [link] = [url for url in links_in(text) if word in urlsplit(url).path]
    return link


def test_a_call_recorded_in_the_form_reaches_a_volunteer_and_is_completed(
    hub: HubClient, smtp: SmtpServer
) -> None:
    hub.add_volunteer(email="form.volunteer@example.org", postcode="KT2 5PQ")
    form = {
        "name": "Margaret Hill",
        "phone": "020 8547 5000",
        "postcode": "kt2 6ab",
        "address": "12 Example Road",
        "need": "shopping",
        "urgency": "urgent",
        "details": "Milk and bread",
        "consent": "yes",
    }
    coordinator = hub.signed_in("coordinator")
    blank = coordinator.get(hub.url("intake", "/"), timeout=10)
    found = re.search(r'name="csrf_token" value="([^"]+)"', blank.text)
    assert found, "the call form has no CSRF token"
    form["csrf_token"] = found.group(1)
    saved = coordinator.post(hub.url("intake", "/"), data=form, timeout=10, allow_redirects=False)
    assert saved.status_code == 303
    page = coordinator.get(hub.url("intake", saved.headers["Location"]), timeout=10)
    request_id = saved.headers["Location"].split("?")[0].rsplit("/", 1)[-1]
    reference = hub.request(request_id)["reference"]
    assert reference in page.text  # read back to the caller

    offer = smtp.mailbox.wait_for("form.volunteer@example.org", reference)
    text = body_of(offer)
    assert "Milk and bread" not in text and "12 Example Road" not in text  # only after accepting
    accepted = submit_the_form(link_with(text, "accept"))
    assert accepted.status_code == 200 and "12 Example Road" in accepted.text
    hub.wait_for_status(request_id, "assigned")

    details = smtp.mailbox.wait_for("form.volunteer@example.org", f"details for {reference}")
    assert "12 Example Road" in body_of(details) and "+442085475000" in body_of(details)
    done = submit_the_form(link_with(body_of(details), "complete"))
    assert done.status_code == 200
    finished = hub.wait_for_status(request_id, "completed")
    kinds = [entry["kind"] for entry in finished["timeline"]]
    for kind in ("request.submitted", "offer.sent", "offer.accepted", "task.completed", "notification.sent"):
        assert kind in kinds


def test_a_request_from_the_api_declined_goes_to_the_next_volunteer(hub: HubClient, smtp: SmtpServer) -> None:
    hub.add_volunteer(email="near@example.org", postcode="KT6 4DT", skills=["prescription_collection"])
    hub.add_volunteer(email="far@example.org", postcode="KT9 1AA", skills=["prescription_collection"])
    created = hub.submit_request(need="prescription", requester={**_requester(), "postcode": "KT6 5QR"})
    assert created["status"] == "submitted" and created["reference"]

    first = smtp.mailbox.wait_for("near@example.org", created["reference"])
    declined = submit_the_form(link_with(body_of(first), "decline"))
    assert declined.status_code == 200

    second = smtp.mailbox.wait_for("far@example.org", created["reference"])
    again = requests.post(link_with(body_of(first), "accept"), timeout=10)
    assert again.status_code == 409  # a spent link changes nothing and says why
    assert "declined" in again.text
    submit_the_form(link_with(body_of(second), "accept"))
    hub.wait_for_status(created["id"], "assigned")
    offers_to_near = [
        m for m in smtp.mailbox.to("near@example.org") if created["reference"] in str(m["Subject"])
    ]
    assert len(offers_to_near) == 1


def test_a_need_for_a_person_to_triage_is_escalated(hub: HubClient) -> None:
    created = hub.submit_request(need="other")
    escalated = hub.wait_for_status(created["id"], "escalated")
    assert any("triage" in entry["summary"] for entry in escalated["timeline"])


def _requester() -> dict[str, object]:
    return {
        "name": "Tom Reed",
        "phone": "07700 900201",
        "email": None,
        "postcode": "KT6 5QR",
        "address": "3 Sample Close",
    }
