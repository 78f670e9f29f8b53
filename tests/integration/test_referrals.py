"""Referrals on the running hub (real workers, beat, SMTP server and a partner's webhook
endpoint): a Foodbank answers by the links in its email; a Pantry's system gets signed
webhooks, checks them with the Standard Webhooks reference library and answers through the
API with the token `hub token create` gave it; a partner at capacity gets no more; a referral
nobody answers expires and the request goes on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.databases import backends
from tests.support.hub import HubClient, running_hub, wait_until
from tests.support.pages import links_in, submit_the_form
from tests.support.routing import partner, routing_file
from tests.support.smtp import SmtpServer, body_of
from tests.support.webhooks import WebhookReceiver

SECRET_KEY = "test-secret-key-0123456789"  # running_hub's HUB_SECRET_KEY


def hub_command(hub_env: Mapping[str, str], *args: str) -> str:
    """Run the `hub` command as an admin would, on this test hub (its settings); its last line."""
    hub = str(Path(sys.executable).with_name("hub"))
    env = dict(hub_env) | {"PATH": "/usr/bin:/bin"}
    done = subprocess.run([hub, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip().splitlines()[-1]


class Pantry:
    """The Pantry's own system: it takes every referral its webhook brings, through the API."""

    def __init__(self) -> None:
        self.token = ""  # from `hub token create`, once the hub runs
        self.endpoint = WebhookReceiver(
            hub_command({"HUB_SECRET_KEY": SECRET_KEY}, "partners", "webhook-secret", "pantry"),
            on_delivery=self.act,
        )
        self.answers: list[int] = []

    def act(self, delivery: dict[str, Any]) -> None:
        if delivery["type"] == "referral.sent":
            response = requests.post(delivery["data"]["api_url"] + "/accept", headers=self.auth(), timeout=10)
            self.answers.append(response.status_code)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="module", params=backends())
def hub(
    request: pytest.FixtureRequest, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HubClient, Pantry, str]]:
    pantry = Pantry()
    pantry.endpoint.start()
    tag = f"{request.param}-{id(pantry)}"  # the SMTP server is shared by both backends' hubs
    foodbank_email = f"foodbank.{tag}@example.org"
    partners = {
        "tiny": partner(
            name="Tiny Larder", areas=["KT9"], capacity_per_day=1, email=f"tiny.{tag}@example.org"
        ),
        "foodbank": partner(name="Kingston Foodbank", areas=["KT1"], email=foodbank_email),
        "pantry": partner(name="Community Pantry", channel="webhook", webhook_url=pantry.endpoint.url),
        # Answers befriending referrals within two seconds, or never.
        "sleepy": partner(
            name="Sleepy Friends",
            needs=["befriending"],
            answer_hours=0.0006,
            email=f"sleepy.{tag}@example.org",
        ),
    }
    path = routing_file(tmp_path_factory.mktemp("routing"), partners)
    env = {"HUB_SMTP_URL": smtp.url, "HUB_ROUTING_FILE": str(path)}
    try:
        with running_hub(request.param, extra_env=env) as client:
            pantry.token = hub_command(
                client.runner.env,
                "token",
                "create",
                "--role",
                "partner",
                "--name",
                "Pantry",
                "--partner",
                "pantry",
            )
            yield client, pantry, foodbank_email
    finally:
        pantry.endpoint.stop()


def kinds(request: dict[str, Any]) -> list[str]:
    return [entry["kind"] for entry in request["timeline"]]


def link(mail: Any, word: str) -> str:
    [url] = [u for u in links_in(body_of(mail)) if word in urlsplit(u).path]
    return url


def test_a_referral_round_trips_by_the_links_in_the_partners_email(
    hub: tuple[HubClient, Pantry, str], smtp: SmtpServer
) -> None:
    client, _, foodbank_email = hub
    created = client.submit_request(need="food_parcel")  # in KT1
    referred = client.wait_for_status(created["id"], "referred")
    assert "Referred to Kingston Foodbank" in [e["summary"] for e in referred["timeline"]]
    referral = smtp.mailbox.wait_for(foodbank_email, f"Referral: Food parcel in KT1 ({created['reference']})")
    assert "Margaret" not in body_of(referral)
    assert link(referral, "reject")  # it may say no
    accepted = submit_the_form(link(referral, "accept"))
    assert accepted.status_code == 200 and "12 Example Road" in accepted.text

    details = smtp.mailbox.wait_for(foodbank_email, f"details for referral {created['reference']}")
    assert "Margaret Hill" in body_of(details)
    assert submit_the_form(link(details, "complete")).status_code == 200
    completed = client.wait_for_status(created["id"], "completed")
    assert [k for k in kinds(completed) if k.startswith("referral.")] == [
        "referral.sent",
        "referral.accepted",
        "referral.completed",
    ]


def test_a_referral_round_trips_through_a_signed_webhook_and_the_api(
    hub: tuple[HubClient, Pantry, str],
) -> None:
    client, pantry, _ = hub
    created = client.submit_request(need="food_parcel", requester=outside_the_foodbanks_area())
    sent = pantry.endpoint.wait_for("referral.sent")
    assert sent["data"]["reference"] == created["reference"] and sent["data"]["area"] == "SW15"
    accepted = pantry.endpoint.wait_for("referral.accepted")  # the Pantry's system took it
    assert pantry.answers[0] == 200
    assert accepted["data"]["requester"]["name"] == "Margaret Hill"
    api_url = sent["data"]["api_url"]
    done = requests.post(api_url + "/complete", headers=pantry.auth(), timeout=10)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert pantry.endpoint.rejected_signatures == 0
    completed = client.wait_for_status(created["id"], "completed")
    assert "Community Pantry accepted the referral" in [e["summary"] for e in completed["timeline"]]
    assert requests.get(api_url, timeout=10).status_code == 401  # no token, no referral


def test_a_partner_at_capacity_gets_no_more(hub: tuple[HubClient, Pantry, str]) -> None:
    client, _, _ = hub
    in_kt9 = outside_the_foodbanks_area() | {"postcode": "KT9 2AA"}
    first = client.submit_request(need="food_parcel", requester=in_kt9)
    second = client.submit_request(need="food_parcel", requester=in_kt9)
    first_summaries = [e["summary"] for e in client.wait_for_status(first["id"], "referred")["timeline"]]
    assert "Referred to Tiny Larder" in first_summaries
    second_summaries = wait_until(
        lambda: [
            e["summary"] for e in client.request(second["id"])["timeline"] if e["kind"] == "referral.sent"
        ],
        what="the second food parcel to be referred",
    )
    assert second_summaries == ["Referred to Community Pantry"]  # the Larder has had its one today


def test_a_referral_nobody_answers_expires_and_the_request_goes_on(
    hub: tuple[HubClient, Pantry, str],
) -> None:
    client, _, _ = hub
    created = client.submit_request(need="befriending")  # no befriender: the partner is next
    escalated = client.wait_for_status(created["id"], "escalated", timeout=60)
    assert [k for k in kinds(escalated) if k.startswith(("referral.", "request.escalated"))] == [
        "referral.sent",
        "referral.expired",
        "request.escalated",
    ]
    [reason] = [e["summary"] for e in escalated["timeline"] if e["kind"] == "request.escalated"]
    assert "no partner group could take it" in reason


def outside_the_foodbanks_area() -> dict[str, Any]:
    return {
        "name": "Margaret Hill",
        "phone": "020 8547 5000",
        "postcode": "SW15 1AA",
        "address": "12 Example Road, Putney",
    }


def test_a_revoked_token_is_refused_by_every_service(hub: tuple[HubClient, Pantry, str]) -> None:
    client, _, _ = hub
    token = hub_command(client.runner.env, "token", "create", "--role", "coordinator", "--name", "Old laptop")
    token_id = hub_command(client.runner.env, "token", "list").split()[0]  # the newest is listed last
    assert token_id not in token  # (the list shows ids, never tokens)
    urls = [client.url(s, p) for s, p in (("intake", "/api/v1/requests"), ("dispatch", "/api/v1/referrals"))]
    urls.append(client.url("notify", "/api/v1/replies"))
    auth = {"Authorization": f"Bearer {token}"}
    assert [requests.get(url, headers=auth, timeout=10).status_code for url in urls] == [200, 200, 200]
    assert hub_command(client.runner.env, "token", "revoke", token_id) == f"Revoked {token_id}."
    wait_until(
        lambda: [requests.get(url, headers=auth, timeout=10).status_code for url in urls] == [401, 401, 401],
        what="every service to refuse the revoked token",
    )
    assert "revoked" in hub_command(client.runner.env, "token", "list")
