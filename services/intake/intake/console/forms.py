"""The call form: its flat fields as the API's body (RequestIn), marshmallow's errors back as
the form's fields, and a request as the form's values to edit it. No Flask here: the views
hand it the posted form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from hub_shared.events import NEEDS
from intake.models import HelpRequest
from intake.requests.schemas import CONSENT_WORDING, RequestIn

NEED_LABELS = {
    "shopping": "Shopping",
    "prescription": "Prescription collection",
    "food_parcel": "Food parcel",
    "befriending": "Befriending (regular calls or visits)",
    "dog_walking": "Dog walking",
    "transport": "Transport (a lift)",
    "other": "Something else (a coordinator will look at it)",
}
assert set(NEED_LABELS) == set(NEEDS)

# The form's flat field names, and where each lives in the API's body.
FORM_FIELDS = {
    "name": ("requester", "name"),
    "phone": ("requester", "phone"),
    "email": ("requester", "email"),
    "postcode": ("requester", "postcode"),
    "address": ("requester", "address"),
    "consent": ("consent", "data_processing"),
    "caller_name": ("caller", "name"),
    "caller_relation": ("caller", "relation"),
    "caller_contact": ("caller", "contact"),
}
FIELD_ORDER = [  # as on the form: the errors' summary lists them in this order
    "name",
    "phone",
    "email",
    "postcode",
    "address",
    "caller_name",
    "caller_relation",
    "caller_contact",
    "need",
    "urgency",
    "details",
    "consent",
]


CALLER_FIELDS = ("caller_name", "caller_relation", "caller_contact")


def load_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The call form's fields as a checked request (RequestIn), or its errors by field."""
    try:
        return RequestIn().load(form_to_body(form)), {}
    except ValidationError as exc:
        return {}, flatten_errors(exc.messages if isinstance(exc.messages, dict) else {})


def form_to_body(form: Mapping[str, str]) -> dict[str, Any]:
    return {
        "requester": {
            "name": form.get("name", "").strip(),
            "phone": form.get("phone", "").strip() or None,
            "email": form.get("email", "").strip() or None,
            "postcode": form.get("postcode", ""),
            "address": form.get("address", "").strip(),
        },
        "need": form.get("need", ""),
        "urgency": form.get("urgency", "normal"),
        "details": form.get("details", "").strip(),
        "vulnerable": form.get("vulnerable") == "yes",
        "safeguarding": form.get("safeguarding") == "yes",
        "consent": {
            "data_processing": form.get("consent") == "yes",
            "same_volunteer": form.get("same_volunteer") == "yes",
            "updates": form.get("updates") == "yes",
            "wording": CONSENT_WORDING,
        },
        "caller": {
            "name": form.get("caller_name", "").strip(),
            "relation": form.get("caller_relation", "").strip(),
            "contact": form.get("caller_contact", "").strip() or None,
        }
        if form.get("on_behalf") == "yes" or any(form.get(f, "").strip() for f in CALLER_FIELDS)
        else None,
    }


def flatten_errors(messages: dict[str, Any]) -> dict[str, str]:
    """marshmallow's nested errors as {form field: first message}, in the form's order."""
    flat: dict[str, str] = {}
    for field, (group, key) in FORM_FIELDS.items():
        nested = messages.get(group)
        if isinstance(nested, dict) and key in nested:
            flat[field] = nested[key][0]
    for field in ("need", "urgency", "details"):
        if field in messages:
            flat[field] = messages[field][0]
    return {field: flat[field] for field in FIELD_ORDER if field in flat}


def form_values(help_request: HelpRequest) -> dict[str, str]:
    """A request as the form's fields, to edit it."""

    def yes(flag: object) -> str:
        return "yes" if flag else ""

    return {
        "name": help_request.requester_name,
        "phone": help_request.requester_phone or "",
        "email": help_request.requester_email or "",
        "postcode": help_request.requester_postcode,
        "address": help_request.requester_address,
        "need": help_request.need,
        "urgency": help_request.urgency,
        "details": help_request.details,
        "vulnerable": yes(help_request.vulnerable),
        "safeguarding": yes(help_request.safeguarding),
        "consent": yes(help_request.consent_data_processing),
        "updates": yes(help_request.consent_updates),
        "same_volunteer": yes(help_request.consent_same_volunteer),
        "on_behalf": yes(help_request.caller_name),
        "caller_name": help_request.caller_name or "",
        "caller_relation": help_request.caller_relation or "",
        "caller_contact": help_request.caller_contact or "",
    }
