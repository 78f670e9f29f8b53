"""The volunteer registry's schemas: the API's, the sign-up form's and weekly times."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from dispatch.matching import MAX_REACH_KM
from dispatch.routing import SKILLS
from dispatch.volunteers.enums import VolunteerStatus
from hub_shared.schemas import Phone, Postcode, StrictSchema

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


class District(fields.String):
    """A postcode district such as KT1 (the outward code)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        district = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not DISTRICT.match(district):
            raise ValidationError("Enter a postcode district, like KT1 or SW19")
        return district


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class SlotIn(StrictSchema):
    """A weekly time a volunteer can help, in UK time: {"day": "monday", "start": "09:00", "end": "12:30"}."""

    day = fields.String(required=True, validate=validate.OneOf(WEEKDAYS))
    start = fields.String(
        required=True, validate=validate.Regexp(CLOCK, error="Use 24-hour time, like 09:30")
    )
    end = fields.String(required=True, validate=validate.Regexp(CLOCK, error="Use 24-hour time, like 17:00"))

    @validates_schema
    def ordered(self, data: dict[str, Any], **_: Any) -> None:
        if minutes(data["end"]) <= minutes(data["start"]):
            raise ValidationError("A slot must end after it starts", "end")

    @post_load
    def as_minutes(self, data: dict[str, Any], **_: Any) -> dict[str, int]:
        return {
            "weekday": WEEKDAYS.index(data["day"]),
            "start_minute": minutes(data["start"]),
            "end_minute": minutes(data["end"]),
        }


class VolunteerIn(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = Phone(load_default=None, allow_none=True)
    postcode = Postcode(required=True)
    skills = fields.List(
        fields.String(validate=validate.OneOf(SKILLS)),
        required=True,
        validate=validate.Length(min=1, error="Give at least one skill."),
    )
    dbs_checked = fields.Boolean(load_default=False)
    dbs_expires_on = fields.Date(load_default=None, allow_none=True)  # none: valid
    status = fields.String(
        load_default=VolunteerStatus.active, validate=validate.OneOf(list(VolunteerStatus))
    )
    on_duty = fields.Boolean(load_default=True)
    preferred_channel = fields.String(load_default="email", validate=validate.OneOf(("email", "sms")))
    continuity = fields.Boolean(load_default=True)  # may be offered people they helped before
    max_active_tasks = fields.Integer(load_default=3, validate=validate.Range(min=1, max=20))
    max_distance_km = fields.Float(load_default=5.0, validate=validate.Range(min=0.5, max=MAX_REACH_KM))
    areas = fields.List(District(), load_default=list, validate=validate.Length(max=50))
    languages = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list)
    availability = fields.List(fields.Nested(SlotIn), load_default=list, validate=validate.Length(max=50))

    @validates_schema
    def reachable_by_choice(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("preferred_channel") == "sms" and not data.get("phone"):
            raise ValidationError("Give a phone number to get offers by SMS", "phone")


class VolunteerChanges(StrictSchema):
    """What a coordinator (or the volunteer, later) changes: only the fields given."""

    status = fields.String(validate=validate.OneOf(list(VolunteerStatus)))
    on_duty = fields.Boolean()
    preferred_channel = fields.String(validate=validate.OneOf(("email", "sms")))
    continuity = fields.Boolean()
    max_active_tasks = fields.Integer(validate=validate.Range(min=1, max=20))
    max_distance_km = fields.Float(validate=validate.Range(min=0.5, max=MAX_REACH_KM))
    dbs_checked = fields.Boolean()
    dbs_expires_on = fields.Date(allow_none=True)


def clock(minutes_after_midnight: int) -> str:
    """The inverse of minutes(): 570 -> "09:30"."""
    return f"{minutes_after_midnight // 60:02d}:{minutes_after_midnight % 60:02d}"


class SlotOut(Schema):
    day = fields.Function(lambda slot: WEEKDAYS[slot.weekday])
    start = fields.Function(lambda slot: clock(slot.start_minute))
    end = fields.Function(lambda slot: clock(slot.end_minute))


class VolunteerOut(Schema):
    id = fields.String()
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    postcode = fields.String()
    skills = fields.List(fields.String(), attribute="skill_names")
    dbs_checked = fields.Boolean()
    dbs_expires_on = fields.Date()
    status = fields.String()
    on_duty = fields.Boolean()
    preferred_channel = fields.String()
    continuity = fields.Boolean()
    max_active_tasks = fields.Integer()
    active_tasks = fields.Integer()
    max_distance_km = fields.Float()
    areas = fields.List(fields.String(), attribute="area_names")
    languages = fields.List(fields.String(), attribute="language_list")
    availability = fields.List(fields.Nested(SlotOut), attribute="slots")
    created_at = fields.DateTime()


class SignUpIn(StrictSchema):
    """The public sign-up form, as the volunteer fills it in."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200, error="Enter your name"))
    email = fields.Email(
        required=True, error_messages={"invalid": "Enter an email address, like name@example.org"}
    )
    phone = Phone(load_default=None, allow_none=True)
    postcode = Postcode(required=True)
    skills = fields.List(
        fields.String(validate=validate.OneOf(SKILLS)),
        required=True,
        validate=validate.Length(min=1, error="Choose at least one way you can help"),
    )
    consent = fields.Boolean(
        required=True,
        validate=validate.Equal(True, error="You must agree to how we keep your details to volunteer"),
    )

    @post_load
    def as_volunteer(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """The volunteer record's fields, with the defaults the API would give."""
        data.pop("consent")
        return VolunteerIn().load(
            {k: v for k, v in data.items() if v is not None} | {"postcode": data["postcode"]}
        )
