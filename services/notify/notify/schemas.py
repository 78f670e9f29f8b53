"""notify's HTTP schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hub_shared.schemas import StrictSchema


class MessageQuery(Schema):
    request_id = fields.String(load_default=None)


class MessageOut(Schema):
    id = fields.String()
    request_id = fields.String()
    template = fields.String()
    channel = fields.String()
    recipient = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime()


class AttemptOut(Schema):
    at = fields.DateTime()
    outcome = fields.String()
    error = fields.String()


class MessageDetailOut(MessageOut):
    """One message with every attempt at sending it."""

    history = fields.List(fields.Nested(AttemptOut))


class PersonQuery(StrictSchema):
    """Whose messages: an email address or a phone number, in the body (never in a URL)."""

    recipient = fields.String(required=True, validate=validate.Length(min=3, max=254))


class ReplyOut(Schema):
    id = fields.String()
    sender = fields.String()
    body = fields.String()
    keyword = fields.String()
    received_at = fields.DateTime()
