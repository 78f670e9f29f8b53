"""Requesters hear about their request only if they agreed to updates, on the channel they gave
(a mobile gets texts, else an email address gets email, a landline alone gets nothing); without
consent nothing of theirs is even kept in notify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hub_shared.events import new_event
from notify.audiences import handlers, is_mobile
from notify.models import Message, Requester
from tests.support.events import request_submitted_payload
from tests.unit.conftest import hub_of
from tests.unit.notify.helpers import people, render_of


def check_link(request_id: str, answer: str) -> str:
    return f"http://intake.test/requests/check/TOKEN-{request_id}/{answer}"


def consume(app: Flask, type: str, payload: dict[str, Any], request_id: str = "r-1") -> None:
    message = new_event(type, payload, request_id=request_id).to_message()
    assert (
        hub_of(app).bus.consume(message, handlers(render_of(app), people(check_link=check_link)))[0]
        == "processed"
    )


def messages(app: Flask) -> list[Message]:
    with hub_of(app).db.sessions() as session:
        return list(session.scalars(select(Message).order_by(Message.created_at)))


def submitted(updates: bool, phone: str | None, email: str | None) -> dict[str, Any]:
    requester = request_submitted_payload()["requester"] | {"phone": phone, "email": email}
    return request_submitted_payload(updates=updates, requester=requester)


def accepted() -> dict[str, Any]:
    volunteer = {"id": "v-1", "name": "Asha Patel", "email": "asha@example.org", "phone": None}
    return {
        "offer_id": "o-1", "reference": "KXT-4QM", "volunteer": volunteer, "need": "shopping",
        "requester": {"name": "Margaret Hill"}, "complete_url": "http://dispatch.test/c",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("phone", "email", "channel", "recipient"),
    [
        ("+447700900123", "m@example.org", "sms", "+447700900123"),  # a mobile: texts
        ("+442085475000", "m@example.org", "email", "m@example.org"),  # a landline: email
        ("+442085475000", None, None, None),  # a landline alone: nothing we can send
    ],
)
def test_with_consent_the_requester_hears_on_the_channel_they_gave(
    notify_app: Flask, phone: str, email: str | None, channel: str | None, recipient: str | None
) -> None:
    consume(notify_app, "request.submitted", submitted(True, phone, email))
    consume(notify_app, "offer.accepted", accepted())
    consume(notify_app, "task.completed", {"offer_id": "o-1", "volunteer_id": "v-1"})
    to_requester = [m for m in messages(notify_app) if m.template.startswith("requester_")]
    if channel is None:
        assert to_requester == []
        return
    assert [(m.template, m.channel, m.recipient) for m in to_requester] == [
        ("requester_confirmation", channel, recipient),
        ("requester_helper_found", channel, recipient),
        ("requester_check", channel, recipient),
    ]
    assert "KXT-4QM" in to_requester[0].body
    assert "Asha" in to_requester[1].body and "Patel" not in to_requester[1].body  # first name only
    assert "http://intake.test/requests/check/TOKEN-r-1/no" in to_requester[2].body


def test_without_consent_nothing_is_kept_or_sent(notify_app: Flask) -> None:
    consume(notify_app, "request.submitted", submitted(False, "+447700900123", "m@example.org"))
    consume(notify_app, "offer.accepted", accepted())
    consume(notify_app, "task.completed", {"offer_id": "o-1", "volunteer_id": "v-1"})
    with hub_of(notify_app).db.sessions() as session:
        assert list(session.scalars(select(Requester))) == []
    assert [m.template for m in messages(notify_app)] == ["offer_accepted"]  # the volunteer's only


@pytest.mark.parametrize(
    ("phone", "mobile"),
    [("+447911123456", True), ("+447700900123", True), ("+447640123456", False), ("+447012345678", False),
     ("+447624123456", True), ("+442085475000", False)],
)  # fmt: skip
def test_texts_go_only_to_mobiles(phone: str, mobile: bool) -> None:
    assert is_mobile(phone) is mobile


def test_a_partner_taking_it_is_told_to_the_requester(notify_app: Flask) -> None:
    consume(notify_app, "request.submitted", submitted(True, None, "m@example.org"))
    partner = {"id": "foodbank", "name": "Kingston Foodbank", "channel": "email", "email": "fb@example.org"}
    consume(
        notify_app,
        "referral.accepted",
        {"referral_id": "f-1", "reference": "KXT-4QM", "partner": partner, "need": "food_parcel",
         "requester": {"name": "Margaret Hill"}, "complete_url": "http://dispatch.test/c"},
    )  # fmt: skip
    [told] = [m for m in messages(notify_app) if m.template == "requester_partner_found"]
    assert told.recipient == "m@example.org" and "Kingston Foodbank will help" in told.body
    assert datetime.now(UTC) - told.created_at < timedelta(minutes=1)


def test_an_edit_moves_or_forgets_how_to_reach_the_requester(notify_app: Flask) -> None:
    consume(notify_app, "request.submitted", submitted(True, "+447700900123", None))
    consume(notify_app, "request.updated", submitted(True, "+447700900999", None))  # a corrected mobile
    consume(notify_app, "offer.accepted", accepted())
    found = [m for m in messages(notify_app) if m.template == "requester_helper_found"]
    assert [m.recipient for m in found] == ["+447700900999"]
    consume(notify_app, "request.updated", submitted(False, "+447700900999", None))  # no longer agrees
    with hub_of(notify_app).db.sessions() as session:
        assert list(session.scalars(select(Requester))) == []
    consume(notify_app, "task.completed", {"offer_id": "o-1", "volunteer_id": "v-1"})
    assert not [m for m in messages(notify_app) if m.template == "requester_check"]
