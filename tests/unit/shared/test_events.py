"""The event contracts: an event is checked against its schema when it is made and when it is
read from a queue; readers tolerate fields they do not know, and reject what breaks the contract."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub_shared.events import InvalidEvent, RequestEscalated, new_event, parse_event
from tests.support.events import request_submitted_payload


def offer_sent_payload() -> dict[str, Any]:
    return {
        "offer_id": "o-1",
        "reference": "KXT-4QM",
        "volunteer": {"id": "v-1", "name": "Asha Patel", "email": "asha@example.org", "phone": None},
        "need": "shopping",
        "urgency": "normal",
        "area": "KT1",
        "expires_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        "accept_url": "http://dispatch.test/offers/t/accept",
        "decline_url": "http://dispatch.test/offers/t/decline",
    }


# -- making events ------------------------------------------------------------------------------


def test_new_event_rejects_an_unknown_type() -> None:
    """Only the catalogue's event types can be made."""
    with pytest.raises(InvalidEvent, match="unknown event type"):
        new_event("request.teleported", {}, request_id="r-1")


@pytest.mark.parametrize(
    "payload",
    [
        request_submitted_payload(need="juggling"),  # not one of NEEDS
        request_submitted_payload(urgency="yesterday"),  # not one of URGENCIES
        {k: v for k, v in request_submitted_payload().items() if k != "reference"},  # required field missing
        request_submitted_payload(requester={"phone": "+442085475000"}),  # nested required name missing
    ],
    ids=["bad-need", "bad-urgency", "missing-reference", "requester-without-name"],
)
def test_new_event_rejects_a_payload_that_breaks_its_schema(payload: dict[str, Any]) -> None:
    """A producer cannot store an event its consumers would reject."""
    with pytest.raises(InvalidEvent, match="does not match its schema"):
        new_event("request.submitted", payload, request_id="r-1")


@pytest.mark.parametrize(
    ("type", "payload"),
    [
        pytest.param(
            "match.ranked",
            {"candidates": [{"volunteer_id": "v-1", "rank": 1, "reasons": "has the skill"}]},
            id="reasons-not-a-list",
        ),
        pytest.param(
            "match.ranked",
            {"candidates": [{"volunteer_id": "v-1", "rank": "first", "reasons": []}]},
            id="rank-not-a-number",
        ),
        pytest.param(
            "offer.sent",
            offer_sent_payload() | {"expires_at": "tomorrow"},
            id="expires-at-not-a-datetime",
        ),
    ],
)
def test_new_event_rejects_a_payload_of_the_wrong_types(type: str, payload: dict[str, Any]) -> None:
    """Wrong types are contract breaches too: InvalidEvent, never a silently mangled event."""
    with pytest.raises(InvalidEvent):
        new_event(type, payload, request_id="r-1")


def test_new_event_fills_in_the_envelope() -> None:
    """A new event gets an id, the current time (aware, UTC) and its contract's version."""
    before = datetime.now(UTC)
    event = new_event("request.escalated", {"reason": "no volunteer"}, request_id="r-1")
    assert event.id and event.type == "request.escalated" and event.request_id == "r-1"
    assert event.version == 1
    assert before <= event.occurred_at <= datetime.now(UTC)
    assert new_event("request.escalated", {"reason": "x"}).id != event.id


# -- reading events -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type", "payload"),
    [("request.submitted", request_submitted_payload()), ("offer.sent", offer_sent_payload())],
)
def test_parse_event_round_trips_to_message(type: str, payload: dict[str, Any]) -> None:
    """What travels on the queue (through JSON) reads back as the same event."""
    event = new_event(type, payload, request_id="r-1")
    message = json.loads(json.dumps(event.to_message()))
    parsed = parse_event(message)
    assert parsed == event
    assert parsed.occurred_at.tzinfo is not None


def test_parse_event_ignores_unknown_payload_and_envelope_fields() -> None:
    """A producer upgraded before its consumers may add fields: consumers drop them (EXCLUDE)."""
    event = new_event("request.submitted", request_submitted_payload(), request_id="r-1")
    message = event.to_message()
    message["trace_id"] = "abc"  # unknown envelope field
    message["payload"]["priority_score"] = 7  # unknown payload field
    message["payload"]["requester"]["pronouns"] = "she/her"  # unknown nested field
    parsed = parse_event(message)
    assert parsed.id == event.id
    assert not hasattr(parsed.payload, "priority_score")
    assert not hasattr(parsed.payload.requester, "pronouns")
    assert parsed.payload == event.payload


def test_parse_event_applies_payload_defaults() -> None:
    """Optional payload fields a producer left out get their defaults."""
    payload = request_submitted_payload()
    del payload["details"], payload["vulnerable"]
    message = new_event("request.submitted", payload, request_id="r-1").to_message()
    parsed = parse_event(message)
    assert parsed.payload.details == "" and parsed.payload.vulnerable is False


@pytest.mark.parametrize("message", [None, "a string", ["a", "list"], 42])
def test_parse_event_rejects_anything_but_an_object(message: Any) -> None:
    with pytest.raises(InvalidEvent, match="JSON object"):
        parse_event(message)


def _valid_message() -> dict[str, Any]:
    return new_event("request.escalated", {"reason": "no volunteer"}, request_id="r-1").to_message()


@pytest.mark.parametrize(
    "breakage",
    [
        lambda m: m.pop("payload"),
        lambda m: m.update(type="request.teleported"),
        lambda m: m.pop("id"),
        lambda m: m.update(id=""),
        lambda m: m.update(occurred_at="2030-01-01T12:00:00"),  # naive: no time zone
        lambda m: m.update(payload={}),  # the payload breaks request.escalated's schema
    ],
    ids=["missing-payload", "unknown-type", "missing-id", "empty-id", "naive-time", "bad-payload"],
)
def test_parse_event_rejects_a_broken_message(breakage: Any) -> None:
    message = _valid_message()
    assert parse_event(dict(message)).type == "request.escalated"  # the unbroken one is fine
    breakage(message)
    with pytest.raises(InvalidEvent):
        parse_event(message)


def test_parse_event_keeps_the_producers_time() -> None:
    """occurred_at is when it happened at the producer, not when it was read."""
    message = _valid_message()
    message["occurred_at"] = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    parsed = parse_event(message)
    assert datetime.now(UTC) - parsed.occurred_at > timedelta(hours=2)


@pytest.mark.parametrize("request_id", ["", "x" * 37])
def test_a_request_id_that_no_service_could_store_is_refused_at_both_ends(request_id: str) -> None:
    """Every service keeps request ids in 36 characters: a longer one is a contract breach."""
    with pytest.raises(InvalidEvent):
        new_event("request.escalated", {"reason": "no volunteer"}, request_id=request_id)
    with pytest.raises(InvalidEvent):
        parse_event(_valid_message() | {"request_id": request_id})


def test_a_publisher_builds_the_payload_class_and_a_consumer_receives_it() -> None:
    """Typed payloads travel as the same JSON as before: an event made from the class and one
    made from a mapping of its fields (an old producer's) are read back alike, and typed."""
    typed = RequestEscalated(reason="no volunteer", reference="KXT-4QM")
    from_class = new_event("request.escalated", typed, request_id="r-1")
    from_mapping = new_event("request.escalated", {"reason": "no volunteer", "reference": "KXT-4QM"})
    assert from_class.to_message()["payload"] == from_mapping.to_message()["payload"]
    parsed = parse_event(json.loads(json.dumps(from_class.to_message())))
    assert isinstance(parsed.payload, RequestEscalated) and parsed.payload == typed
    with pytest.raises(InvalidEvent, match="reason"):
        new_event("request.escalated", RequestEscalated(reason=None), request_id="r-1")  # type: ignore[arg-type]
