"""Events about the hub itself: the people who sign in, revoked tokens, and what became of a
message (for the request's timeline)."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields

from hub_shared.events.common import EventSchema


@dataclass(frozen=True)
class PersonChanged:
    """Someone who signs in was added or changed in intake (for notify: who coordinates)."""

    person_id: str
    email: str
    role: str
    active: bool = True


class PersonChangedSchema(EventSchema):
    payload = PersonChanged
    person_id = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    active = fields.Boolean(load_default=True)


@dataclass(frozen=True)
class TokenRevoked:
    token_id: str  # the token's id (`hub token list`), never the token


class TokenRevokedSchema(EventSchema):
    payload = TokenRevoked
    token_id = fields.String(required=True)


@dataclass(frozen=True)
class NotificationOutcome:
    """notification.sent and notification.failed."""

    message_id: str
    channel: str
    template: str
    error: str | None = None


class NotificationOutcomeSchema(EventSchema):
    payload = NotificationOutcome
    message_id = fields.String(required=True)
    channel = fields.String(required=True)
    template = fields.String(required=True)
    error = fields.String(load_default=None, allow_none=True)
