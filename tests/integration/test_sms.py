"""Texts on the running hub (real workers, beat, Redis), with a real HTTP server playing the
Twilio-compatible provider: a volunteer's YES accepts, NO declines, DONE completes, STOP opts
them out, and a forged reply changes nothing; a receipt marks a text delivered; the provider
down for a while then back gets every text once, no faster than the rate; quiet hours hold a
normal text back and let an urgent one through."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
import requests

from tests.support.databases import backends
from tests.support.hub import HubClient, running_hub, wait_until
from tests.support.routing import routing_file
from tests.support.sms_provider import SmsProvider, receipt, reply
from tests.support.smtp import SmtpServer

RATE = 2.0  # segments a second, for the whole hub
_numbers = itertools.count(200)


def new_phone() -> str:
    return f"+4477009{next(_numbers):05d}"


@pytest.fixture(scope="module")
def provider() -> Iterator[SmsProvider]:
    server = SmsProvider().start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=backends())
def hub(
    request: pytest.FixtureRequest,
    smtp: SmtpServer,
    provider: SmsProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HubClient]:
    volunteers_only = routing_file(tmp_path_factory.mktemp("routing"), {}, food_parcel="volunteers")
    env = provider.env() | {
        "HUB_SMTP_URL": smtp.url,
        "HUB_ROUTING_FILE": str(volunteers_only),
        "HUB_QUIET_HOURS": "off",
        "HUB_SMS_PER_SECOND": str(RATE),
        "HUB_RETRY_SECONDS": "1",
    }
    with running_hub(request.param, extra_env=env) as client:
        yield client


def texter(hub: HubClient, skill: str, **fields: Any) -> dict[str, Any]:
    """A volunteer who prefers texts, with a number of their own."""
    email = f"{skill}.{next(_numbers)}@example.org"
    return hub.add_volunteer(
        email=email, phone=new_phone(), preferred_channel="sms", skills=[skill], **fields
    )


def answer(hub: HubClient, phone: str, text: str, **options: Any) -> requests.Response:
    return reply(hub.url("notify"), phone, text, **options)


def test_yes_accepts_the_offer_and_done_completes_the_task(hub: HubClient, provider: SmsProvider) -> None:
    walker = texter(hub, "dog_walking")
    created = hub.submit_request(need="dog_walking")
    provider.wait_for(walker["phone"], f"{created['reference']}")
    assert answer(hub, walker["phone"], "Yes").status_code == 200
    hub.wait_for_status(created["id"], "assigned")
    details = provider.wait_for(walker["phone"], "Reply DONE")
    assert "Margaret Hill" in details.body and "12 Example Road" in details.body
    assert answer(hub, walker["phone"], "done").status_code == 200
    hub.wait_for_status(created["id"], "completed")


def test_no_declines_and_the_next_volunteer_is_asked(hub: HubClient, provider: SmsProvider) -> None:
    first = texter(hub, "driving", postcode="KT1 1EU")
    second = texter(hub, "driving", postcode="KT2 5PQ")
    created = hub.submit_request(need="transport")
    provider.wait_for(first["phone"], created["reference"])
    answer(hub, first["phone"], "No sorry")
    provider.wait_for(second["phone"], created["reference"])
    request = hub.wait_for_status(created["id"], "offered")
    assert [e["kind"] for e in request["timeline"]].count("offer.declined") == 1


def test_a_forged_reply_changes_nothing_and_stop_opts_the_sender_out(
    hub: HubClient, provider: SmsProvider, smtp: SmtpServer
) -> None:
    befriender = texter(hub, "befriending", dbs_checked=True)
    created = hub.submit_request(need="befriending")
    provider.wait_for(befriender["phone"], created["reference"])
    assert answer(hub, befriender["phone"], "YES", forged=True).status_code == 403
    time.sleep(1)  # nothing can be on its way
    assert hub.request(created["id"])["status"] == "offered"
    assert answer(hub, befriender["phone"], "STOP").status_code == 200
    volunteer_url = hub.url("dispatch", f"/api/v1/volunteers/{befriender['id']}")
    wait_until(
        lambda: hub.api.get(volunteer_url, timeout=10).json()["preferred_channel"] == "email",
        what="the volunteer to be moved to email",
    )
    texts_before = len(provider.to(befriender["phone"]))
    again = hub.submit_request(need="befriending", requester=other_requester())  # to the same befriender
    smtp.mailbox.wait_for(befriender["email"], again["reference"])
    assert len(provider.to(befriender["phone"])) == texts_before  # by email now, never by text


def test_a_delivery_receipt_marks_the_text_delivered(hub: HubClient, provider: SmsProvider) -> None:
    shopper = texter(hub, "shopping")
    created = hub.submit_request(need="shopping", requester=other_requester())
    sent = provider.wait_for(shopper["phone"], created["reference"])
    assert receipt(sent.status_callback, sent.sid, "delivered").status_code == 204
    wait_until(
        lambda: (
            [m["status"] for m in hub.messages(created["id"]) if m["template"] == "offer"] == ["delivered"]
        ),
        what="the text to be marked delivered",
    )


def test_a_provider_down_for_a_while_gets_every_text_once_at_the_rate(
    hub: HubClient, provider: SmsProvider
) -> None:
    pharmacists = [texter(hub, "prescription_collection") for _ in range(6)]
    provider.down = True
    try:
        created = [hub.submit_request(need="prescription", requester=other_requester()) for _ in pharmacists]
        wait_until(lambda: provider.refused >= 6, what="the provider to refuse the texts")
        time.sleep(3)  # down for a while: retries come and fail
    finally:
        provider.down = False
    phones = {p["phone"] for p in pharmacists}
    wait_until(
        lambda: len([s for s in provider.sent if s.to in phones]) >= 6,
        timeout=60,
        what="every offer to be texted once the provider is back",
    )
    time.sleep(2)  # any duplicate would come now
    texts = sorted((s for s in provider.sent if s.to in phones), key=lambda s: s.at)
    references = sorted(c["reference"] for c in created)
    assert sorted(next(r for r in references if r in t.body) for t in texts) == references  # each once
    # No faster than the rate: n texts after the first take at least (n - 1) / rate, less a
    # second's burst and scheduling slack.
    assert texts[-1].at - texts[0].at >= (len(texts) - 2) / RATE - 0.3


def other_requester() -> dict[str, Any]:
    return {"name": "Tom Reed", "phone": new_phone(), "postcode": "KT1 2AB", "address": "3 Sample Close"}


# -- quiet hours, on a hub whose quiet hours cover the whole day ---------------------------------


@pytest.fixture(scope="module")
def quiet_hub(provider: SmsProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubClient]:
    volunteers_only = routing_file(tmp_path_factory.mktemp("quiet"), {}, food_parcel="volunteers")
    env = provider.env() | {
        "HUB_ROUTING_FILE": str(volunteers_only),
        "HUB_QUIET_HOURS": "00:00-00:00",
    }  # all day
    with running_hub("sqlite", extra_env=env) as client:
        yield client


def test_quiet_hours_hold_back_a_normal_text_and_let_an_urgent_one_through(
    quiet_hub: HubClient, provider: SmsProvider
) -> None:
    normal_walker, urgent_walker = texter(quiet_hub, "dog_walking"), texter(quiet_hub, "driving")
    normal = quiet_hub.submit_request(need="dog_walking", urgency="normal")
    urgent = quiet_hub.submit_request(need="transport", urgency="urgent", requester=other_requester())
    provider.wait_for(urgent_walker["phone"], urgent["reference"])
    held = wait_until(
        lambda: [m for m in quiet_hub.messages(normal["id"]) if m["template"] == "offer"],
        what="the normal offer to be recorded",
    )
    time.sleep(2)  # the sweep runs every second: it would have gone by now
    assert [m["status"] for m in quiet_hub.messages(normal["id"]) if m["template"] == "offer"] == ["queued"]
    assert provider.to(normal_walker["phone"]) == [] and held


# -- requesters: updates only with consent --------------------------------------------------------


def test_a_requester_hears_only_with_consent_and_can_say_they_got_no_help(
    hub: HubClient, provider: SmsProvider, smtp: SmtpServer
) -> None:
    texter(hub, "dog_walking", postcode="KT6 4DT")  # a second walker, to share the work
    silent = other_requester() | {"email": "silent.requester@example.org"}
    told = other_requester() | {"email": "told.requester@example.org"}
    quiet = hub.submit_request(need="dog_walking", requester=silent)
    updated = hub.submit_request(
        need="dog_walking", requester=told, consent={"data_processing": True, "updates": True}
    )
    provider.wait_for(told["phone"], f"we have your request for help ({updated['reference']})")

    # Whoever is offered each (this walker, or one from an earlier test) says yes and does it;
    # each YES takes the sender's most recent open offer, each DONE their most recent task.
    def offered(reference: str) -> str | None:
        return next((t.to for t in provider.sent if f"({reference}," in t.body), None)

    offered_to = {
        reference: wait_until(partial(offered, reference), what="each request to be offered")
        for reference in (quiet["reference"], updated["reference"])
    }
    for word, says in (("YES", "Thank you! {}"), ("DONE", "")):
        for phone in offered_to.values():
            answer(hub, phone, word)
            time.sleep(0.5)
        for reference, phone in offered_to.items():
            if says:
                provider.wait_for(phone, says.format(reference))
    for created in (quiet, updated):
        hub.wait_for_status(created["id"], "completed")
    provider.wait_for(told["phone"], "a volunteer, will help")
    check = provider.wait_for(told["phone"], "did you get the help you needed")
    [_, no_link] = [word for word in check.body.split() if word.startswith("http")]
    page = requests.get(no_link, timeout=10)
    assert (
        page.status_code == 200 and hub.request(updated["id"])["status"] == "completed"
    )  # opening it did nothing
    assert requests.post(no_link, timeout=10).status_code == 200
    reopened = hub.wait_for_status(updated["id"], "escalated")
    assert "did not get help" in reopened["timeline"][-1]["summary"]
    time.sleep(2)  # anything still on its way to the requester who did not agree would be here
    assert provider.to(silent["phone"]) == [] and smtp.mailbox.to(silent["email"]) == []
    assert [
        m for m in hub.messages(quiet["id"]) if m["recipient"] in (silent["phone"], silent["email"])
    ] == []
