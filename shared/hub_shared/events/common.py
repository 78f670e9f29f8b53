"""What every event contract shares: the needs and urgencies, the schema base classes, and the
people events name (a requester's contact, a volunteer, a partner group)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

NEEDS = ("shopping", "prescription", "food_parcel", "befriending", "dog_walking", "transport", "other")
URGENCIES = ("low", "normal", "urgent")


class EventSchema(Schema):
    """A payload's schema. Unknown fields are ignored (EXCLUDE), so a producer can be upgraded
    before its consumers; a loaded payload is its typed class (`payload`)."""

    payload: ClassVar[type]

    class Meta:
        unknown = EXCLUDE

    @post_load
    def typed(self, data: dict[str, Any], **_: Any) -> Any:
        return self.payload(**data)


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None = None
    email: str | None = None
    postcode: str | None = None
    address: str | None = None


class ContactSchema(EventSchema):
    payload = Contact
    name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    postcode = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class VolunteerRef:
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    channel: str = "email"  # preferred: email or sms
    language: str | None = None  # for messages: their first language


class VolunteerRefSchema(EventSchema):
    payload = VolunteerRef
    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    channel = fields.String(load_default="email", validate=validate.OneOf(("email", "sms")))
    language = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class PartnerRef:
    id: str
    name: str
    channel: str  # email or webhook
    email: str | None = None
    webhook_url: str | None = None
    secret_generation: int = 1  # which webhook secret signs (rotation)


class PartnerRefSchema(EventSchema):
    payload = PartnerRef
    id = fields.String(required=True)
    name = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(("email", "webhook")))
    email = fields.String(load_default=None, allow_none=True)
    webhook_url = fields.String(load_default=None, allow_none=True)
    secret_generation = fields.Integer(load_default=1)
