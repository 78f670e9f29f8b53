"""dispatch's HTTP schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from dispatch.service import SKILLS
from hub_shared.schemas import Phone, Postcode, StrictSchema


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


class VolunteerOut(Schema):
    id = fields.String()
    name = fields.String()
    email = fields.String()
    phone = fields.String()
    postcode = fields.String()
    skills = fields.List(fields.String(), attribute="skill_names")
    dbs_checked = fields.Boolean()
    created_at = fields.DateTime()
