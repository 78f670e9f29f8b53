"""The event catalogue: which event types exist, each one's payload class and schema, who
subscribes, the envelope every event travels in, and making and reading events.

Events are facts, named in the past tense. A publisher builds the payload's class (say
`OfferSent(...)`); the schema checks it as it will travel (JSON) and a consumer's handler
receives it typed again (`Event[OfferSent]`). Consumers ignore payload fields they do not know
(EXCLUDE), so a producer can be upgraded before its consumers; the wire format is the same
JSON object it always was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from hub_shared.events.common import EventSchema
from hub_shared.events.hub import NotificationOutcomeSchema, PersonChangedSchema, TokenRevokedSchema
from hub_shared.events.offers import (
    OfferAcceptedSchema,
    OfferAnsweredSchema,
    OfferSentSchema,
    OfferWithdrawnSchema,
    ReplyReceivedSchema,
    TaskReleasedSchema,
    VolunteerSignedUpSchema,
)
from hub_shared.events.referrals import (
    ReferralAcceptedSchema,
    ReferralAnsweredSchema,
    ReferralSentSchema,
    ReferralWithdrawnSchema,
)
from hub_shared.events.requests import (
    MatchRankedSchema,
    RequestEndedSchema,
    RequestEscalatedSchema,
    RequestSubmittedSchema,
)

P = TypeVar("P")


class InvalidEvent(ValueError):
    """An event that does not match its contract; it goes to the dead-letter table."""


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type[EventSchema]
    subscribers: tuple[str, ...]  # the services whose queues receive it


CATALOGUE: dict[str, EventType] = {
    e.name: e
    for e in (
        EventType("request.submitted", 1, RequestSubmittedSchema, ("dispatch", "notify")),
        EventType("match.ranked", 1, MatchRankedSchema, ("intake",)),
        EventType("offer.sent", 1, OfferSentSchema, ("intake", "notify")),
        EventType("offer.accepted", 1, OfferAcceptedSchema, ("intake", "notify")),
        EventType("offer.declined", 1, OfferAnsweredSchema, ("intake", "notify")),
        EventType("offer.expired", 1, OfferAnsweredSchema, ("intake", "notify")),
        EventType("offer.withdrawn", 1, OfferWithdrawnSchema, ("intake", "notify")),
        EventType("task.completed", 1, OfferAnsweredSchema, ("intake", "notify")),
        EventType("task.released", 1, TaskReleasedSchema, ("intake",)),
        EventType("referral.sent", 1, ReferralSentSchema, ("intake", "notify")),
        EventType("referral.accepted", 1, ReferralAcceptedSchema, ("intake", "notify")),
        EventType("referral.rejected", 1, ReferralAnsweredSchema, ("intake", "notify")),
        EventType("referral.expired", 1, ReferralAnsweredSchema, ("intake", "notify")),
        EventType("referral.completed", 1, ReferralAnsweredSchema, ("intake", "notify")),
        EventType("referral.withdrawn", 1, ReferralWithdrawnSchema, ("intake", "notify")),
        EventType(
            "request.updated", 1, RequestSubmittedSchema, ("dispatch", "notify")
        ),  # as it is, after an edit
        EventType("request.escalated", 1, RequestEscalatedSchema, ("intake", "notify")),
        EventType("request.cancelled", 1, RequestEndedSchema, ("dispatch", "notify")),
        EventType("request.closed", 1, RequestEndedSchema, ("dispatch", "notify")),
        EventType("request.held", 1, RequestEndedSchema, ("dispatch",)),  # nobody asked until reopened
        EventType("request.reopened", 1, RequestEndedSchema, ("dispatch",)),  # dispatch looks for help again
        EventType("volunteer.signed_up", 1, VolunteerSignedUpSchema, ("notify",)),
        EventType("reply.received", 1, ReplyReceivedSchema, ("dispatch",)),
        EventType("token.revoked", 1, TokenRevokedSchema, ("intake", "dispatch", "notify")),
        EventType("person.changed", 1, PersonChangedSchema, ("notify",)),
        EventType("notification.sent", 1, NotificationOutcomeSchema, ("intake",)),
        EventType("notification.failed", 1, NotificationOutcomeSchema, ("intake",)),
    )
}


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    type = fields.String(required=True, validate=validate.OneOf(list(CATALOGUE)))
    version = fields.Integer(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    # intake's request ids are UUID strings; every service stores them in 36 characters.
    request_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36))
    payload = fields.Dict(required=True)


@dataclass(frozen=True)
class Event(Generic[P]):
    """One event: its type, its typed payload (the catalogue's class for the type), and the
    envelope's id, request and time."""

    type: str
    payload: P
    request_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    version: int = 1

    def to_message(self) -> dict[str, Any]:
        """The JSON-ready envelope that travels on the queues."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at.isoformat(),
            "request_id": self.request_id,
            "payload": CATALOGUE[self.type].schema().dump(self.payload),
        }


def new_event(type: str, payload: Any, request_id: str | None = None) -> Event[Any]:
    """Make an event from its payload (the catalogue's class; a mapping of the same fields is
    read as one), checking it as it will travel before it is stored."""
    if type not in CATALOGUE:
        raise InvalidEvent(f"unknown event type {type!r}")
    if request_id is not None and not 0 < len(request_id) <= 36:
        raise InvalidEvent("request_id must be a request's id (at most 36 characters)")
    event_type = CATALOGUE[type]
    # Check the payload as it will travel (JSON), with the schema consumers will load it with.
    schema = event_type.schema()
    try:
        as_sent = payload if isinstance(payload, Mapping) else schema.dump(payload)
        wire = json.loads(json.dumps(as_sent, default=_to_json))
        checked = schema.load(wire)
    except (TypeError, ValueError, ValidationError) as exc:
        detail = exc.messages if isinstance(exc, ValidationError) else exc
        raise InvalidEvent(f"{type} payload does not match its schema: {detail}") from exc
    return Event(type=type, payload=checked, request_id=request_id, version=event_type.version)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of any event contract")


def parse_event(message: Any) -> Event[Any]:
    """Validate a message from a queue into an Event; raise InvalidEvent if it breaks the contract."""
    if not isinstance(message, dict):
        raise InvalidEvent("an event must be a JSON object")
    try:
        envelope = EnvelopeSchema().load(message)
        payload = CATALOGUE[envelope["type"]].schema().load(envelope["payload"])
    except ValidationError as exc:
        raise InvalidEvent(str(exc.messages)) from exc
    return Event(
        id=envelope["id"],
        type=envelope["type"],
        version=envelope["version"],
        occurred_at=envelope["occurred_at"],
        request_id=envelope["request_id"],
        payload=payload,
    )
