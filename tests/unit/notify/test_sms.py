"""Texts: a volunteer who prefers SMS gets offers by SMS through a Twilio-compatible provider (a
real HTTP server here), counted in segments as providers count them; quiet hours hold back all
but urgent texts; replies and delivery receipts come in signed, and anything unsigned changes
nothing; STOP stops every text to that number; a shared Redis bucket keeps the provider's rate."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub_shared.events import new_event
from hub_shared.redis_client import redis_client
from hub_shared.redis_server import EmbeddedRedis
from notify.models import Message, OptOut, Reply
from notify.policies import LONDON, QuietHours
from notify.ratelimit import RateLimiter
from notify.replies import keyword_of
from notify.service import Delivery, deliver
from notify.sms import SmsProvider, segments
from tests.support import sms_provider
from tests.support.sms_provider import ACCOUNT_SID, AUTH_TOKEN, SENDER
from tests.unit.conftest import client_as, hub_of, make_app, outbox
from tests.unit.notify.helpers import delivery, parts_of

PHONE = "+447700900101"


@pytest.fixture
def provider() -> Iterator[sms_provider.SmsProvider]:
    server = sms_provider.SmsProvider().start()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path: Path, provider: sms_provider.SmsProvider) -> Iterator[Flask]:
    """notify with the provider configured, and the public URL its signatures are made over."""
    yield from make_app(tmp_path, "notify", **provider.env(), HUB_NOTIFY_URL="http://notify.test")


def channels(provider: sms_provider.SmsProvider, **options: Any) -> Delivery:
    sms = SmsProvider(provider.url, ACCOUNT_SID, AUTH_TOKEN, SENDER)
    return delivery(sms=sms, status_callback="http://notify.test/sms/status", **options)


def offer_sent(urgency: str = "normal", **volunteer: Any) -> dict[str, Any]:
    payload = {
        "offer_id": "o-1",
        "reference": "KXT-4QM",
        "volunteer": {
            "id": "v-1",
            "name": "Asha",
            "email": "asha@example.org",
            "phone": PHONE,
            "channel": "sms",
        }
        | volunteer,
        "need": "dog_walking",
        "urgency": urgency,
        "area": "KT1",
        "expires_at": datetime.now(UTC) + timedelta(hours=4),
        "accept_url": "http://dispatch.test/offers/TOKEN/accept",
        "decline_url": "http://dispatch.test/offers/TOKEN/decline",
    }
    return new_event("offer.sent", payload, request_id="r-1").to_message()


def consume(app: Flask, event: dict[str, Any]) -> Message:
    hub = hub_of(app)
    assert hub.bus.consume(event, parts_of(app).handlers)[0] == "processed"
    with hub.db.sessions() as session:
        query = select(Message).where(~Message.template.endswith("_reminder")).order_by(Message.created_at)
        return list(session.scalars(query))[-1]


def reload(app: Flask, message_id: str) -> Message:
    with hub_of(app).db.sessions() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


# -- segments, as providers count them ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # the extension table: two units each
        ("€" * 81, 2),
        ("ŵ" * 70, 1),  # Welsh w-circumflex is not GSM: the whole text goes as UCS-2
        ("a" * 69 + "ŵ", 1),
        ("a" * 70 + "ŵ", 2),
        ("🙂" * 35, 1),  # two UTF-16 units each
        ("🙂" * 36, 2),
    ],
)
def test_segments_are_counted_as_providers_count_them(body: str, count: int) -> None:
    assert segments(body) == count


@pytest.mark.parametrize(
    ("body", "keyword"),
    [("YES", "yes"), ("yes please", "yes"), (" Y ", "yes"), ("No.", "no"), ("done!", "done"),
     ("STOP", "stop"), ("Unsubscribe", "stop"), ("Is it still needed?", "other"), ("", "other"),
     ("call me on 07700900999 yes", "other")],
)  # fmt: skip
def test_a_reply_is_read_by_its_first_word(body: str, keyword: str) -> None:
    assert keyword_of(body) == keyword


# -- choosing the channel, and sending ----------------------------------------------------------


def test_a_volunteer_who_prefers_sms_gets_the_offer_as_a_short_text(app: Flask) -> None:
    message = consume(app, offer_sent())
    assert (message.channel, message.recipient, message.subject) == ("sms", PHONE, "")
    assert "YES or NO" in message.body and "KXT-4QM" in message.body and "\n" not in message.body
    assert message.segments == segments(message.body) <= 2
    assert message.urgent is False
    assert consume(app, offer_sent(urgency="urgent")).urgent is True


def test_without_a_phone_the_offer_goes_by_email(app: Flask) -> None:
    message = consume(app, offer_sent(phone=None))
    assert (message.channel, message.recipient) == ("email", "asha@example.org")


def test_a_text_goes_to_the_provider_with_its_fields_and_the_receipt_address(
    app: Flask, provider: sms_provider.SmsProvider
) -> None:
    message = consume(app, offer_sent())
    hub = hub_of(app)
    assert deliver(hub.uow, hub.bus, message.id, channels(provider)) == "sent"
    [sent] = provider.sent
    assert (sent.to, sent.sender, sent.body) == (PHONE, SENDER, message.body)
    assert sent.status_callback == "http://notify.test/sms/status"
    assert reload(app, message.id).provider_id == sent.sid


def test_a_provider_that_is_down_means_try_again_later(
    app: Flask, provider: sms_provider.SmsProvider
) -> None:
    provider.down = True
    message = consume(app, offer_sent())
    hub = hub_of(app)
    assert deliver(hub.uow, hub.bus, message.id, channels(provider)) == "retrying"
    waiting = reload(app, message.id)
    assert waiting.status == "queued" and "503" in (waiting.last_error or "")
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > datetime.now(UTC)


def test_a_number_the_provider_refuses_fails_at_once(app: Flask, provider: sms_provider.SmsProvider) -> None:
    message = consume(app, offer_sent())
    hub = hub_of(app)
    wrong = delivery(sms=SmsProvider(provider.url, ACCOUNT_SID, "wrong-token", SENDER))
    assert deliver(hub.uow, hub.bus, message.id, wrong) == "failed"
    assert "401" in (reload(app, message.id).last_error or "")


# -- quiet hours ----------------------------------------------------------------------------------


def london(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (london(22, 30), datetime(2026, 11, 24, 8, 0, tzinfo=LONDON)),
        (london(3), london(8)),
        (london(8), None),
        (london(20, 59), None),
        (london(21), datetime(2026, 11, 24, 8, 0, tzinfo=LONDON)),
    ],
)
def test_quiet_hours_cross_midnight(now: datetime, until: datetime | None) -> None:
    assert QuietHours(21 * 60, 8 * 60).until(now) == until


@pytest.mark.parametrize("now", [london(0), london(12), london(23, 59)])
def test_quiet_hours_from_a_time_to_the_same_time_are_the_whole_day(now: datetime) -> None:
    assert QuietHours(0, 0).until(now) == datetime(2026, 11, 24, 0, 0, tzinfo=LONDON)


def test_quiet_hours_hold_back_a_normal_text_and_let_an_urgent_one_through(
    app: Flask, provider: sms_provider.SmsProvider
) -> None:
    hub = hub_of(app)
    always_quiet = channels(provider, quiet_hours=(0, 0))  # a window from midnight to midnight: all day
    normal = consume(app, offer_sent())
    assert deliver(hub.uow, hub.bus, normal.id, always_quiet) == "waiting"
    held = reload(app, normal.id)
    assert (held.status, held.attempts) == ("queued", 0) and held.next_attempt_at is not None
    assert held.next_attempt_at > datetime.now(UTC)
    urgent = consume(app, offer_sent(urgency="urgent"))
    assert deliver(hub.uow, hub.bus, urgent.id, always_quiet) == "sent"
    assert [s.body for s in provider.sent] == [urgent.body]


# -- replies and receipts, signed by the provider -----------------------------------------------


def inbound(app: Flask, body: str, *, sender: str = PHONE, forged: bool = False, sid: str = "SMin1") -> Any:
    url = "http://notify.test/sms/inbound"
    form = {"MessageSid": sid, "From": sender, "To": SENDER, "Body": body}
    token = "not-the-token" if forged else AUTH_TOKEN
    headers = {"X-Twilio-Signature": sms_provider.signature(url, form, token)}
    return client_as(app).post("/sms/inbound", data=form, headers=headers)


def replies(app: Flask) -> list[Reply]:
    with hub_of(app).db.sessions() as session:
        return list(session.scalars(select(Reply)))


def test_a_signed_reply_is_kept_once_and_passed_to_dispatch_without_its_text(app: Flask) -> None:
    answered = inbound(app, "Yes, on my way")
    assert answered.status_code == 200 and answered.mimetype == "text/xml"
    assert inbound(app, "Yes, on my way").status_code == 200  # the provider retried its webhook
    [kept] = replies(app)
    assert (kept.sender, kept.keyword, kept.body) == (PHONE, "yes", "Yes, on my way")
    [event] = outbox(app, "reply.received")
    assert event["payload"] == {"reply_id": kept.id, "phone": PHONE, "keyword": "yes"}


@pytest.mark.parametrize("tamper", ["forged", "unsigned", "altered"])
def test_a_reply_without_the_providers_signature_changes_nothing(app: Flask, tamper: str) -> None:
    if tamper == "forged":
        response = inbound(app, "STOP", forged=True)
    else:
        url = "http://notify.test/sms/inbound"
        form = {"MessageSid": "SMin9", "From": PHONE, "To": SENDER, "Body": "YES"}
        headers = {} if tamper == "unsigned" else {"X-Twilio-Signature": sms_provider.signature(url, form)}
        response = client_as(app).post("/sms/inbound", data=form | {"Body": "STOP"}, headers=headers)
    assert response.status_code == 403
    assert replies(app) == [] and outbox(app) == []


def test_stop_stops_every_text_to_that_number(app: Flask, provider: sms_provider.SmsProvider) -> None:
    inbound(app, "STOP")
    with hub_of(app).db.sessions() as session:
        assert session.get(OptOut, PHONE) is not None
    message = consume(app, offer_sent())
    hub = hub_of(app)
    assert deliver(hub.uow, hub.bus, message.id, channels(provider)) == "failed"
    assert provider.sent == [] and "STOP" in (reload(app, message.id).last_error or "")


def test_a_delivery_receipt_updates_the_message(app: Flask, provider: sms_provider.SmsProvider) -> None:
    hub = hub_of(app)
    delivered, lost = consume(app, offer_sent()), consume(app, offer_sent(urgency="urgent"))
    for message in (delivered, lost):
        assert deliver(hub.uow, hub.bus, message.id, channels(provider)) == "sent"
    client = client_as(app)
    url = "http://notify.test/sms/status"

    def post_receipt(message: Message, status: str, token: str = AUTH_TOKEN, **extra: str) -> int:
        form = {"MessageSid": reload(app, message.id).provider_id or "", "MessageStatus": status} | extra
        signature = sms_provider.signature(url, form, token)
        return client.post("/sms/status", data=form, headers={"X-Twilio-Signature": signature}).status_code

    assert post_receipt(delivered, "delivered", token="forged") == 403
    assert reload(app, delivered.id).status == "sent"
    assert post_receipt(delivered, "sent") == 204  # a step on the way
    assert post_receipt(delivered, "delivered") == 204
    assert (reload(app, delivered.id).status, reload(app, delivered.id).delivered_at is not None) == (
        "delivered",
        True,
    )
    assert post_receipt(lost, "undelivered", ErrorCode="30003") == 204
    assert reload(app, lost.id).status == "failed"
    [failed] = outbox(app, "notification.failed")
    assert failed["payload"]["error"] == "the SMS provider reports it undelivered (error 30003)"


def test_a_receipt_that_overtakes_the_sends_commit_is_kept_and_applied(
    app: Flask, provider: sms_provider.SmsProvider
) -> None:
    """The provider may call back before notify has recorded its id for the text: the receipt
    is kept, and applied once the send is recorded (it used to be dropped)."""
    hub = hub_of(app)
    message = consume(app, offer_sent())
    real = channels(provider)
    client = client_as(app)
    url = "http://notify.test/sms/status"

    class CallsBackAtOnce:
        """The real SMS adapter, and the provider's receipt arriving before send() returns."""

        def send(self, text: Message) -> str | None:
            sid = real.channels["sms"].send(text)
            assert sid is not None
            form = {"MessageSid": sid, "MessageStatus": "delivered"}
            signed = {"X-Twilio-Signature": sms_provider.signature(url, form, AUTH_TOKEN)}
            assert client.post("/sms/status", data=form, headers=signed).status_code == 204
            assert reload(app, text.id).status == "sending"  # not ours yet: kept for later
            return sid

    overtaken = replace(real, channels={**real.channels, "sms": CallsBackAtOnce()})
    assert deliver(hub.uow, hub.bus, message.id, overtaken) == "sent"
    assert reload(app, message.id).status == "delivered"


# -- the provider-wide rate ----------------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server.url
    server.stop()


def test_the_bucket_keeps_the_rate_across_workers(redis_url: str) -> None:
    one, other = (RateLimiter(redis_client(redis_url), "t:bucket", per_second=4.0) for _ in range(2))
    assert one.take(1) == 0.0
    wait = other.take(1)  # another worker, at once: it shares the bucket
    assert 0.2 <= wait <= 0.25
    time.sleep(wait)
    assert other.take(1) == 0.0


def test_a_long_text_borrows_and_the_next_one_waits_for_it(redis_url: str) -> None:
    bucket = RateLimiter(redis_client(redis_url), "t:long", per_second=10.0)
    assert bucket.take(3) == 0.0  # three segments: more than a second's burst, sent at once
    assert 0.29 <= bucket.take(1) <= 0.31  # the debt of two, then one more


def test_the_log_shows_one_persons_messages_and_the_replies(app: Flask) -> None:
    consume(app, offer_sent())
    consume(app, offer_sent(phone=None))  # the same volunteer, by email
    inbound(app, "Running late", sid="SMlate")
    client = client_as(app)
    by_text = client.post("/api/v1/messages/search", json={"recipient": PHONE}).get_json()
    assert {m["channel"] for m in by_text} == {"sms"} and len(by_text) == 2  # the offer and its reminder
    by_email = client.post("/api/v1/messages/search", json={"recipient": "asha@example.org"}).get_json()
    assert {m["channel"] for m in by_email} == {"email"}
    assert client.post("/api/v1/messages/search", json={"who": PHONE}).status_code == 422
    assert client.get("/api/v1/messages/search").status_code == 404  # no search by URL
    [kept] = client.get("/api/v1/replies").get_json()
    assert (kept["sender"], kept["keyword"], kept["body"]) == (PHONE, "other", "Running late")
