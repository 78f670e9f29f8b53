"""intake's HTTP schemas: what a request for help must contain, and how it is shown."""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hub_shared.events import NEEDS, URGENCIES
from hub_shared.schemas import Phone, Postcode, StrictSchema
from intake.requests.queue import STATUSES


class RequesterIn(StrictSchema):
    name = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200, error="Enter the name of the person who needs help"),
    )
    phone = Phone(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    postcode = Postcode(required=True)
    address = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500, error="Enter the address where help is needed"),
    )

    @validates_schema
    def reachable(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("phone") and not data.get("email"):
            raise ValidationError("Enter a phone number or an email address to reach them", "phone")


# Read to the caller before they agree; kept with each request as it was when they agreed.
CONSENT_WORDING = (
    "The hub will keep these details to arrange help, share them only with the volunteer or partner "
    "group who takes it on, and delete them when they are no longer needed."
)


class CallerIn(StrictSchema):
    """Someone calling for the person who needs help, kept apart from the requester's details."""

    name = fields.String(
        required=True, validate=validate.Length(min=1, max=200, error="Enter the caller's name")
    )
    relation = fields.String(
        required=True,
        validate=validate.Length(
            min=1, max=100, error="Say who the caller is to them (a son, a neighbour, a GP)"
        ),
    )
    contact = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))


class ConsentIn(StrictSchema):
    data_processing = fields.Boolean(required=True)
    wording = fields.String(load_default=CONSENT_WORDING, validate=validate.Length(min=10, max=2000))
    # They would like the volunteer who helped them before, where possible (continuity).
    same_volunteer = fields.Boolean(load_default=False)
    # They agree to get updates about this request (by text to a mobile, else by email).
    updates = fields.Boolean(load_default=False)

    @validates_schema
    def given(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("data_processing") is not True:
            raise ValidationError(
                "The person must agree to the hub keeping their details to arrange help",
                "data_processing",
            )


class RequestIn(StrictSchema):
    requester = fields.Nested(RequesterIn, required=True)
    need = fields.String(required=True, validate=validate.OneOf(NEEDS, error="Choose a kind of help"))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    details = fields.String(load_default="", validate=validate.Length(max=2000))
    vulnerable = fields.Boolean(load_default=False)
    # A safeguarding concern the caller raised or the coordinator heard: coordinators are told at once.
    safeguarding = fields.Boolean(load_default=False)
    consent = fields.Nested(ConsentIn, required=True)
    caller = fields.Nested(CallerIn, load_default=None, allow_none=True)


class CallerOut(Schema):
    name = fields.String(attribute="caller_name")
    relation = fields.String(attribute="caller_relation")
    contact = fields.String(attribute="caller_contact")


class RequesterOut(Schema):
    name = fields.String(attribute="requester_name")
    phone = fields.String(attribute="requester_phone")
    email = fields.String(attribute="requester_email")
    postcode = fields.String(attribute="requester_postcode")
    address = fields.String(attribute="requester_address")


class TimelineEntryOut(Schema):
    at = fields.DateTime()
    kind = fields.String()
    summary = fields.String()


class CandidateOut(Schema):
    rank = fields.Integer()
    volunteer_id = fields.String()
    name = fields.String(attribute="volunteer_name")
    reasons = fields.Function(lambda candidate: candidate.reason_list)


class RequestOut(Schema):
    id = fields.String()
    reference = fields.String()
    status = fields.String()
    need = fields.String()
    urgency = fields.String()
    details = fields.String()
    vulnerable = fields.Boolean()
    safeguarding = fields.Boolean()
    requester = fields.Function(lambda request: RequesterOut().dump(request))
    created_at = fields.DateTime()
    same_volunteer = fields.Boolean(attribute="consent_same_volunteer")
    updates = fields.Boolean(attribute="consent_updates")
    consent_wording = fields.String()
    caller = fields.Function(lambda request: CallerOut().dump(request) if request.caller_name else None)
    timeline = fields.List(fields.Nested(TimelineEntryOut))
    # The latest ranking of volunteers for it, best first, with each one's reasons.
    candidates = fields.List(fields.Nested(CandidateOut))


class RequestCreatedOut(Schema):
    id = fields.String()
    reference = fields.String()
    status = fields.String()


# A day the queries can add one to (9999-12-31 cannot: it overflowed into a 500).
IN_CALENDAR = validate.Range(min=date(1900, 1, 1), max=date(9998, 12, 31), error="Give a real date")


class RequestQuery(Schema):
    """Filters for the list of requests (none of them personal: they may travel in URLs)."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    need = fields.String(validate=validate.OneOf(NEEDS))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    district = fields.String(validate=validate.Length(min=2, max=4))
    created_from = fields.Date(validate=IN_CALENDAR, metadata={"description": "London date, included"})
    created_to = fields.Date(validate=IN_CALENDAR, metadata={"description": "London date, included"})
    needs_attention = fields.Boolean(
        load_default=False,
        metadata={"description": "Only what needs a person now, most pressing first"},
    )


class SearchIn(StrictSchema):
    """A search by reference, phone number or part of a name: sent in the body, never the URL."""

    query = fields.String(required=True, validate=validate.Length(min=2, max=200))


class RequestSummaryOut(Schema):
    """A request in a list: no name, address, phone or free text, nor the vulnerable and
    safeguarding flags (the council reads these too; a request's own page has everything)."""

    id = fields.String()
    reference = fields.String()
    status = fields.String()
    need = fields.String()
    urgency = fields.String()
    district = fields.String()
    created_at = fields.DateTime()
    due_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    status_changed_at = fields.DateTime()
