"""notify tells partner groups of referrals: by email with the signed links, or by a webhook
that a real HTTP server, playing the partner, checks with the Standard Webhooks reference
library. Webhooks are retried on a 5xx or no answer, with the same webhook-id every time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from hub_shared.events import new_event
from hub_shared.webhooks import partner_secret
from notify.models import Message
from notify.service import deliver
from tests.support.hub import free_port
from tests.support.webhooks import WebhookReceiver
from tests.unit.conftest import hub_of, outbox
from tests.unit.notify.helpers import delivery, parts_of

SECRET_KEY = "unit-test-secret-0123456789"  # the unit apps' HUB_SECRET_KEY
PARTNER_ID = "pantry"


def referral_sent(channel: str, address: str, generation: int = 1) -> dict[str, Any]:
    partner = {
        "id": PARTNER_ID,
        "name": "Community Pantry",
        "channel": channel,
        "secret_generation": generation,
    }
    partner |= {"email": address} if channel == "email" else {"webhook_url": address}
    payload = {
        "referral_id": "ref-1",
        "reference": "KXT-4QM",
        "partner": partner,
        "need": "food_parcel",
        "urgency": "urgent",
        "area": "KT1",
        "expires_at": datetime.now(UTC) + timedelta(hours=24),
        "accept_url": "http://dispatch.test/referrals/TOKEN/accept",
        "reject_url": "http://dispatch.test/referrals/TOKEN/reject",
        "api_url": "http://dispatch.test/api/v1/referrals/ref-1",
    }
    return new_event("referral.sent", payload, request_id="r-1").to_message()


def referral_accepted(webhook_url: str) -> dict[str, Any]:
    partner = {"id": PARTNER_ID, "name": "Community Pantry", "channel": "webhook", "webhook_url": webhook_url}
    payload = {
        "referral_id": "ref-1",
        "reference": "KXT-4QM",
        "partner": partner,
        "need": "food_parcel",
        "details": "Family of four",
        "requester": {"name": "Margaret Hill", "phone": "+442085475000", "address": "12 Example Road"},
        "complete_url": "http://dispatch.test/referrals/TOKEN/complete",
    }
    return new_event("referral.accepted", payload, request_id="r-1").to_message()


def consume(app: Flask, event: dict[str, Any]) -> Message:
    """notify receives the event; the message it records (not the reminder it also keeps)."""
    hub = hub_of(app)
    assert hub.bus.consume(event, parts_of(app).handlers)[0] == "processed"
    with hub.db.sessions() as session:
        [message] = session.scalars(select(Message).where(~Message.template.endswith("_reminder")))
        return message


def send(app: Flask, message_id: str) -> str:
    hub = hub_of(app)
    return deliver(hub.uow, hub.bus, message_id, delivery(secret_key=SECRET_KEY))


def reload(app: Flask, message_id: str) -> Message:
    with hub_of(app).db.sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def make_due(app: Flask, message_id: str) -> None:
    with hub_of(app).db.transaction() as session:
        session.execute(update(Message).where(Message.id == message_id).values(next_attempt_at=None))


@pytest.fixture
def partner_endpoint() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(partner_secret(SECRET_KEY, PARTNER_ID)).start()
    yield receiver
    receiver.stop()


def test_an_email_partner_gets_the_referral_with_both_links_and_no_personal_details(
    notify_app: Flask,
) -> None:
    message = consume(notify_app, referral_sent("email", "referrals@pantry.test"))
    assert (message.channel, message.recipient, message.template) == (
        "email",
        "referrals@pantry.test",
        "referral",
    )
    assert message.subject == "Referral: Food parcel in KT1 (KXT-4QM)"
    assert "http://dispatch.test/referrals/TOKEN/accept" in message.body
    assert "http://dispatch.test/referrals/TOKEN/reject" in message.body
    assert "Margaret" not in message.body
    assert send(notify_app, message.id) == "held"  # no SMTP server set: the dev outbox keeps it


def test_a_webhook_partner_gets_a_signed_delivery_its_own_verifier_accepts(
    notify_app: Flask, partner_endpoint: WebhookReceiver
) -> None:
    message = consume(notify_app, referral_sent("webhook", partner_endpoint.url))
    assert (message.channel, message.recipient, message.partner_id) == (
        "webhook",
        partner_endpoint.url,
        PARTNER_ID,
    )
    assert send(notify_app, message.id) == "sent"
    [delivery] = partner_endpoint.delivered
    assert delivery["type"] == "referral.sent" and delivery["webhook-id"] == message.id
    assert delivery["data"]["referral_id"] == "ref-1"
    assert delivery["data"]["api_url"] == "http://dispatch.test/api/v1/referrals/ref-1"
    assert "partner" not in delivery["data"]
    assert reload(notify_app, message.id).status == "sent"
    [outcome] = outbox(notify_app, "notification.sent")
    assert outcome["payload"]["channel"] == "webhook"


def test_the_details_reach_a_webhook_partner_once_it_accepted(
    notify_app: Flask, partner_endpoint: WebhookReceiver
) -> None:
    message = consume(notify_app, referral_accepted(partner_endpoint.url))
    assert send(notify_app, message.id) == "sent"
    [delivery] = partner_endpoint.delivered
    assert delivery["type"] == "referral.accepted"
    assert delivery["data"]["requester"]["name"] == "Margaret Hill"


def test_a_partner_that_fails_for_a_while_gets_it_later_with_the_same_webhook_id(
    notify_app: Flask, partner_endpoint: WebhookReceiver
) -> None:
    partner_endpoint.statuses = [503, 502]
    message = consume(notify_app, referral_sent("webhook", partner_endpoint.url))
    for attempt in (1, 2):
        assert send(notify_app, message.id) == "retrying"
        waiting = reload(notify_app, message.id)
        assert (waiting.status, waiting.attempts, waiting.last_error) == (
            "queued",
            attempt,
            f"the webhook answered {503 - attempt + 1}",
        )
        assert waiting.next_attempt_at is not None and waiting.next_attempt_at > datetime.now(UTC)
        make_due(notify_app, message.id)
    assert send(notify_app, message.id) == "sent"
    assert len(partner_endpoint.attempts) == 3 and len(partner_endpoint.delivered) == 1
    assert {headers["webhook-id"] for headers in partner_endpoint.attempts} == {message.id}


def test_a_delivery_the_partner_cannot_verify_fails_at_once_with_the_reason(notify_app: Flask) -> None:
    stranger = WebhookReceiver(partner_secret("another-hubs-secret-key", PARTNER_ID)).start()
    try:
        message = consume(notify_app, referral_sent("webhook", stranger.url))
        assert send(notify_app, message.id) == "failed"
    finally:
        stranger.stop()
    assert stranger.rejected_signatures == 1 and stranger.delivered == []
    assert reload(notify_app, message.id).status == "failed"
    [failed] = outbox(notify_app, "notification.failed")
    assert failed["payload"]["error"] == "the webhook answered 401"


def test_an_unreachable_partner_means_try_again_later(notify_app: Flask) -> None:
    message = consume(notify_app, referral_sent("webhook", f"http://127.0.0.1:{free_port()}/hook"))
    assert send(notify_app, message.id) == "retrying"
    assert "could not reach the webhook" in (reload(notify_app, message.id).last_error or "")
    assert json.loads(reload(notify_app, message.id).body)["type"] == "referral.sent"


@pytest.mark.parametrize(("partner_checks_with", "accepted"), [(1, True), (2, True), (3, False)])
def test_while_a_secret_rotates_deliveries_carry_both_signatures(
    notify_app: Flask, partner_checks_with: int, accepted: bool
) -> None:
    """The routing file raised the partner's secret to generation 2: until the partner switches,
    its old secret still verifies; a secret the hub never issued does not."""
    receiver = WebhookReceiver(partner_secret(SECRET_KEY, PARTNER_ID, partner_checks_with)).start()
    try:
        message = consume(notify_app, referral_sent("webhook", receiver.url, generation=2))
        assert send(notify_app, message.id) == ("sent" if accepted else "failed")
    finally:
        receiver.stop()
    assert len(receiver.attempts[0]["webhook-signature"].split(" ")) == 2
    assert (len(receiver.delivered), receiver.rejected_signatures) == ((1, 0) if accepted else (0, 1))


def test_a_partner_is_told_when_the_hub_no_longer_needs_it(notify_app: Flask) -> None:
    partner = {"id": PARTNER_ID, "name": "Community Pantry", "channel": "email", "email": "ref@pantry.test"}
    payload = {"referral_id": "ref-1", "reference": "KXT-4QM", "partner": partner}
    message = consume(notify_app, new_event("referral.withdrawn", payload, request_id="r-1").to_message())
    assert (message.recipient, message.subject) == ("ref@pantry.test", "No longer needed: KXT-4QM")
    assert "Please do nothing more for it" in " ".join(message.body.split())
