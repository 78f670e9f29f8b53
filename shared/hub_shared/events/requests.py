"""Events about a request: recorded (or edited), ranked, escalated, and a coordinator's stops."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import fields, validate

from hub_shared.events.common import NEEDS, URGENCIES, Contact, ContactSchema, EventSchema


@dataclass(frozen=True)
class RequestSubmitted:
    """request.submitted, and request.updated (the request as it is, after an edit)."""

    reference: str
    need: str
    urgency: str
    requester: Contact
    details: str = ""
    vulnerable: bool = False
    safeguarding: bool = False  # a concern: coordinators are told at once
    continuity: bool = False  # the same volunteer as before, where possible
    updates: bool = False  # the requester agreed to messages about it


class RequestSubmittedSchema(EventSchema):
    payload = RequestSubmitted
    reference = fields.String(required=True)
    need = fields.String(required=True, validate=validate.OneOf(NEEDS))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    details = fields.String(load_default="")
    vulnerable = fields.Boolean(load_default=False)
    safeguarding = fields.Boolean(load_default=False)
    continuity = fields.Boolean(load_default=False)
    updates = fields.Boolean(load_default=False)
    requester = fields.Nested(ContactSchema, required=True)


@dataclass(frozen=True)
class Candidate:
    volunteer_id: str
    rank: int
    reasons: list[str]
    name: str | None = None  # for the coordinators' page


class CandidateSchema(EventSchema):
    payload = Candidate
    volunteer_id = fields.String(required=True)
    name = fields.String(load_default=None, allow_none=True)
    rank = fields.Integer(required=True)
    reasons = fields.List(fields.String(), required=True)


@dataclass(frozen=True)
class MatchRanked:
    candidates: list[Candidate]


class MatchRankedSchema(EventSchema):
    payload = MatchRanked
    candidates = fields.List(fields.Nested(CandidateSchema), required=True)


@dataclass(frozen=True)
class RequestEscalated:
    reason: str
    reference: str | None = None  # for the coordinators' message
    # "coordinator" when a person in the hub raised it (intake already has it on the timeline).
    raised_by: str | None = None


class RequestEscalatedSchema(EventSchema):
    payload = RequestEscalated
    reason = fields.String(required=True)
    reference = fields.String(load_default=None, allow_none=True)
    raised_by = fields.String(load_default=None, allow_none=True)


@dataclass(frozen=True)
class RequestEnded:
    """A coordinator cancelled, closed, held or reopened a request (why, in their words)."""

    reason: str


class RequestEndedSchema(EventSchema):
    payload = RequestEnded
    reason = fields.String(required=True)
