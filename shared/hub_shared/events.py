"""The event contracts: one envelope, one marshmallow schema per event type, and who subscribes.

Events are facts, named in the past tense. Consumers ignore payload fields they do not know
(EXCLUDE), so a producer can be upgraded before its consumers.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

NEEDS = ("shopping", "prescription", "food_parcel", "befriending", "dog_walking", "transport", "other")
URGENCIES = ("low", "normal", "urgent")


class InvalidEvent(ValueError):
    """An event that does not match its contract; it goes to the dead-letter table."""


class EventSchema(Schema):
    class Meta:
        unknown = EXCLUDE


class Contact(EventSchema):
    name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    postcode = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)


class VolunteerRef(EventSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    channel = fields.String(load_default="email", validate=validate.OneOf(("email", "sms")))  # preferred
    language = fields.String(load_default=None, allow_none=True)  # for messages: their first language


class RequestSubmitted(EventSchema):
    reference = fields.String(required=True)
    need = fields.String(required=True, validate=validate.OneOf(NEEDS))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    details = fields.String(load_default="")
    vulnerable = fields.Boolean(load_default=False)
    safeguarding = fields.Boolean(load_default=False)  # a concern: coordinators are told at once
    continuity = fields.Boolean(load_default=False)  # the same volunteer as before, where possible
    updates = fields.Boolean(load_default=False)  # the requester agreed to messages about it
    requester = fields.Nested(Contact, required=True)


class Candidate(EventSchema):
    volunteer_id = fields.String(required=True)
    name = fields.String(load_default=None, allow_none=True)  # for the coordinators' page
    rank = fields.Integer(required=True)
    reasons = fields.List(fields.String(), required=True)


class MatchRanked(EventSchema):
    candidates = fields.List(fields.Nested(Candidate), required=True)


class OfferSent(EventSchema):
    offer_id = fields.String(required=True)
    reference = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRef, required=True)
    need = fields.String(required=True)
    urgency = fields.String(required=True)
    area = fields.String(required=True)  # postcode district only: enough to decide
    expires_at = fields.AwareDateTime(required=True)
    accept_url = fields.String(required=True)
    decline_url = fields.String(required=True)
    availability_url = fields.String(load_default=None, allow_none=True)  # pause or change


class OfferAccepted(EventSchema):
    offer_id = fields.String(required=True)
    reference = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRef, required=True)
    need = fields.String(required=True)
    details = fields.String(load_default="")
    requester = fields.Nested(Contact, required=True)  # shared with the volunteer on acceptance
    complete_url = fields.String(required=True)
    release_url = fields.String(load_default=None, allow_none=True)  # "I can't do it after all"


class OfferWithdrawn(EventSchema):
    offer_id = fields.String(required=True)
    reference = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRef, required=True)
    # taken: another volunteer accepted; stepped_back: the volunteer paused or stopped;
    # cancelled: a coordinator cancelled or closed the request (also for one already accepted);
    # reassigned: a coordinator gave it to someone else.
    reason = fields.String(
        load_default="taken",
        validate=validate.OneOf(("taken", "stepped_back", "cancelled", "reassigned", "on_hold")),
    )


class TaskReleased(EventSchema):
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    reason = fields.String(load_default="")


class VolunteerSignedUp(EventSchema):
    volunteer = fields.Nested(VolunteerRef, required=True)
    verify_url = fields.String(required=True)


class OfferAnswered(EventSchema):
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRef, load_default=None, allow_none=True)  # to thank them


class RequestEscalated(EventSchema):
    reason = fields.String(required=True)
    reference = fields.String(load_default=None, allow_none=True)  # for the coordinators' message
    # "coordinator" when a person in the hub raised it (intake already has it on the timeline).
    raised_by = fields.String(load_default=None, allow_none=True)


class RequestEnded(EventSchema):
    """A coordinator cancelled, closed, held or reopened a request (why, in their words)."""

    reason = fields.String(required=True)


class PersonChanged(EventSchema):
    """Someone who signs in was added or changed in intake (for notify: who coordinates)."""

    person_id = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    active = fields.Boolean(load_default=True)


class TokenRevoked(EventSchema):
    token_id = fields.String(required=True)  # the token's id (`hub token list`), never the token


class PartnerRef(EventSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(("email", "webhook")))
    email = fields.String(load_default=None, allow_none=True)
    webhook_url = fields.String(load_default=None, allow_none=True)
    secret_generation = fields.Integer(load_default=1)  # which webhook secret signs (rotation)


class ReferralSent(EventSchema):
    referral_id = fields.String(required=True)
    reference = fields.String(required=True)
    partner = fields.Nested(PartnerRef, required=True)
    need = fields.String(required=True)
    urgency = fields.String(required=True)
    area = fields.String(required=True)  # postcode district only, until the partner accepts
    expires_at = fields.AwareDateTime(required=True)
    accept_url = fields.String(required=True)  # signed links, for partners taking email
    reject_url = fields.String(required=True)
    api_url = fields.String(required=True)  # the referral in dispatch's API, for partners' systems


class ReferralAccepted(EventSchema):
    referral_id = fields.String(required=True)
    reference = fields.String(required=True)
    partner = fields.Nested(PartnerRef, required=True)
    need = fields.String(required=True)
    details = fields.String(load_default="")
    requester = fields.Nested(Contact, required=True)  # shared with the partner on acceptance
    complete_url = fields.String(required=True)


class ReferralWithdrawn(EventSchema):
    """The hub no longer needs the partner for this request (a coordinator cancelled or closed it)."""

    referral_id = fields.String(required=True)
    reference = fields.String(required=True)
    partner = fields.Nested(PartnerRef, required=True)
    # cancelled: the request was cancelled or closed; reassigned: a coordinator gave it elsewhere;
    # on_hold: a coordinator put it on hold.
    reason = fields.String(
        load_default="cancelled", validate=validate.OneOf(("cancelled", "reassigned", "on_hold"))
    )


class ReferralAnswered(EventSchema):
    referral_id = fields.String(required=True)
    partner_id = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)  # why a partner said no


class ReplyReceived(EventSchema):
    """A volunteer's text, for dispatch to act on: matched to the sender and their open offer
    or task, never to anything written in it. The text itself stays in notify."""

    reply_id = fields.String(required=True)
    phone = fields.String(required=True)  # the sender, E.164
    keyword = fields.String(required=True, validate=validate.OneOf(("yes", "no", "done", "stop", "other")))


class NotificationOutcome(EventSchema):
    message_id = fields.String(required=True)
    channel = fields.String(required=True)
    template = fields.String(required=True)
    error = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type[Schema]
    subscribers: tuple[str, ...]  # the services whose queues receive it


CATALOGUE: dict[str, EventType] = {
    e.name: e
    for e in (
        EventType("request.submitted", 1, RequestSubmitted, ("dispatch", "notify")),
        EventType("match.ranked", 1, MatchRanked, ("intake",)),
        EventType("offer.sent", 1, OfferSent, ("intake", "notify")),
        EventType("offer.accepted", 1, OfferAccepted, ("intake", "notify")),
        EventType("offer.declined", 1, OfferAnswered, ("intake", "notify")),
        EventType("offer.expired", 1, OfferAnswered, ("intake", "notify")),
        EventType("offer.withdrawn", 1, OfferWithdrawn, ("intake", "notify")),
        EventType("task.completed", 1, OfferAnswered, ("intake", "notify")),
        EventType("task.released", 1, TaskReleased, ("intake",)),
        EventType("referral.sent", 1, ReferralSent, ("intake", "notify")),
        EventType("referral.accepted", 1, ReferralAccepted, ("intake", "notify")),
        EventType("referral.rejected", 1, ReferralAnswered, ("intake", "notify")),
        EventType("referral.expired", 1, ReferralAnswered, ("intake", "notify")),
        EventType("referral.completed", 1, ReferralAnswered, ("intake", "notify")),
        EventType("referral.withdrawn", 1, ReferralWithdrawn, ("intake", "notify")),
        EventType("request.updated", 1, RequestSubmitted, ("dispatch", "notify")),  # as it is, after an edit
        EventType("request.escalated", 1, RequestEscalated, ("intake", "notify")),
        EventType("request.cancelled", 1, RequestEnded, ("dispatch", "notify")),
        EventType("request.closed", 1, RequestEnded, ("dispatch", "notify")),
        EventType("request.held", 1, RequestEnded, ("dispatch",)),  # nobody asked until reopened
        EventType("request.reopened", 1, RequestEnded, ("dispatch",)),  # dispatch looks for help again
        EventType("volunteer.signed_up", 1, VolunteerSignedUp, ("notify",)),
        EventType("reply.received", 1, ReplyReceived, ("dispatch",)),
        EventType("token.revoked", 1, TokenRevoked, ("intake", "dispatch", "notify")),
        EventType("person.changed", 1, PersonChanged, ("notify",)),
        EventType("notification.sent", 1, NotificationOutcome, ("intake",)),
        EventType("notification.failed", 1, NotificationOutcome, ("intake",)),
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
class Event:
    type: str
    payload: dict[str, Any]
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


def new_event(type: str, payload: dict[str, Any], request_id: str | None = None) -> Event:
    """Make an event, checking the payload against its contract before it is stored."""
    if type not in CATALOGUE:
        raise InvalidEvent(f"unknown event type {type!r}")
    if request_id is not None and not 0 < len(request_id) <= 36:
        raise InvalidEvent("request_id must be a request's id (at most 36 characters)")
    event_type = CATALOGUE[type]
    # Check the payload as it will travel (JSON), with the schema consumers will load it with.
    try:
        wire = json.loads(json.dumps(payload, default=_to_json))
        checked = event_type.schema().load(wire)
    except (TypeError, ValueError, ValidationError) as exc:
        detail = exc.messages if isinstance(exc, ValidationError) else exc
        raise InvalidEvent(f"{type} payload does not match its schema: {detail}") from exc
    return Event(type=type, payload=checked, request_id=request_id, version=event_type.version)


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not part of any event contract")


def parse_event(message: Any) -> Event:
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
