"""Events about offers to volunteers and the tasks they accept, and volunteers themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marshmallow import fields, validate

from hub_shared.events.common import Contact, ContactSchema, EventSchema, VolunteerRef, VolunteerRefSchema


@dataclass(frozen=True)
class OfferSent:
    offer_id: str
    reference: str
    volunteer: VolunteerRef
    need: str
    urgency: str
    area: str  # postcode district only: enough to decide
    expires_at: datetime
    accept_url: str
    decline_url: str
    availability_url: str | None = None  # pause or change


class OfferSentSchema(EventSchema):
    payload = OfferSent
    offer_id = fields.String(required=True)
    reference = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRefSchema, required=True)
    need = fields.String(required=True)
    urgency = fields.String(required=True)
    area = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)
    accept_url = fields.String(required=True)
    decline_url = fields.String(required=True)
    availability_url = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class OfferAccepted:
    offer_id: str
    reference: str
    volunteer: VolunteerRef
    need: str
    requester: Contact  # shared with the volunteer on acceptance
    complete_url: str
    details: str = ""
    release_url: str | None = None  # "I can't do it after all"


class OfferAcceptedSchema(EventSchema):
    payload = OfferAccepted
    offer_id = fields.String(required=True)
    reference = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRefSchema, required=True)
    need = fields.String(required=True)
    details = fields.String(load_default="")
    requester = fields.Nested(ContactSchema, required=True)
    complete_url = fields.String(required=True)
    release_url = fields.String(load_default=None, allow_none=True)


# taken: another volunteer accepted; stepped_back: the volunteer paused or stopped;
# cancelled: a coordinator cancelled or closed the request (also for one already accepted);
# reassigned: a coordinator gave it to someone else; on_hold: a coordinator held it.
WITHDRAWAL_REASONS = ("taken", "stepped_back", "cancelled", "reassigned", "on_hold")


@dataclass(frozen=True)
class OfferWithdrawn:
    offer_id: str
    reference: str
    volunteer: VolunteerRef
    reason: str = "taken"


class OfferWithdrawnSchema(EventSchema):
    payload = OfferWithdrawn
    offer_id = fields.String(required=True)
    reference = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRefSchema, required=True)
    reason = fields.String(load_default="taken", validate=validate.OneOf(WITHDRAWAL_REASONS))


@dataclass(frozen=True)
class OfferAnswered:
    """offer.declined, offer.expired and task.completed."""

    offer_id: str
    volunteer_id: str
    volunteer: VolunteerRef | None = None  # to thank them


class OfferAnsweredSchema(EventSchema):
    payload = OfferAnswered
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    volunteer = fields.Nested(VolunteerRefSchema, load_default=None, allow_none=True)


@dataclass(frozen=True)
class TaskReleased:
    offer_id: str
    volunteer_id: str
    reason: str = ""


class TaskReleasedSchema(EventSchema):
    payload = TaskReleased
    offer_id = fields.String(required=True)
    volunteer_id = fields.String(required=True)
    reason = fields.String(load_default="")


@dataclass(frozen=True)
class VolunteerSignedUp:
    volunteer: VolunteerRef
    verify_url: str


class VolunteerSignedUpSchema(EventSchema):
    payload = VolunteerSignedUp
    volunteer = fields.Nested(VolunteerRefSchema, required=True)
    verify_url = fields.String(required=True)


REPLY_KEYWORDS = ("yes", "no", "done", "stop", "other")


@dataclass(frozen=True)
class ReplyReceived:
    """A volunteer's text, for dispatch to act on: matched to the sender and their open offer
    or task, never to anything written in it. The text itself stays in notify."""

    reply_id: str
    phone: str  # the sender, E.164
    keyword: str


class ReplyReceivedSchema(EventSchema):
    payload = ReplyReceived
    reply_id = fields.String(required=True)
    phone = fields.String(required=True)
    keyword = fields.String(required=True, validate=validate.OneOf(REPLY_KEYWORDS))
