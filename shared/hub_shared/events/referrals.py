"""Events about referrals to partner groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marshmallow import fields, validate

from hub_shared.events.common import Contact, ContactSchema, EventSchema, PartnerRef, PartnerRefSchema


@dataclass(frozen=True)
class ReferralSent:
    referral_id: str
    reference: str
    partner: PartnerRef
    need: str
    urgency: str
    area: str  # postcode district only, until the partner accepts
    expires_at: datetime
    accept_url: str  # signed links, for partners taking email
    reject_url: str
    api_url: str  # the referral in dispatch's API, for partners' systems


class ReferralSentSchema(EventSchema):
    payload = ReferralSent
    referral_id = fields.String(required=True)
    reference = fields.String(required=True)
    partner = fields.Nested(PartnerRefSchema, required=True)
    need = fields.String(required=True)
    urgency = fields.String(required=True)
    area = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)
    accept_url = fields.String(required=True)
    reject_url = fields.String(required=True)
    api_url = fields.String(required=True)


@dataclass(frozen=True)
class ReferralAccepted:
    referral_id: str
    reference: str
    partner: PartnerRef
    need: str
    requester: Contact  # shared with the partner on acceptance
    complete_url: str
    details: str = ""


class ReferralAcceptedSchema(EventSchema):
    payload = ReferralAccepted
    referral_id = fields.String(required=True)
    reference = fields.String(required=True)
    partner = fields.Nested(PartnerRefSchema, required=True)
    need = fields.String(required=True)
    details = fields.String(load_default="")
    requester = fields.Nested(ContactSchema, required=True)
    complete_url = fields.String(required=True)


@dataclass(frozen=True)
class ReferralWithdrawn:
    """The hub no longer needs the partner for this request: cancelled (the request was
    cancelled or closed), reassigned (a coordinator gave it elsewhere) or on_hold."""

    referral_id: str
    reference: str
    partner: PartnerRef
    reason: str = "cancelled"


class ReferralWithdrawnSchema(EventSchema):
    payload = ReferralWithdrawn
    referral_id = fields.String(required=True)
    reference = fields.String(required=True)
    partner = fields.Nested(PartnerRefSchema, required=True)
    reason = fields.String(
        load_default="cancelled", validate=validate.OneOf(("cancelled", "reassigned", "on_hold"))
    )


@dataclass(frozen=True)
class ReferralAnswered:
    """referral.rejected, referral.expired and referral.completed."""

    referral_id: str
    partner_id: str
    reason: str | None = None  # why a partner said no


class ReferralAnsweredSchema(EventSchema):
    payload = ReferralAnswered
    referral_id = fields.String(required=True)
    partner_id = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)
