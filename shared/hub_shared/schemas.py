"""Building blocks for the services' HTTP schemas: a strict base schema, phone and postcode."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from marshmallow import RAISE, Schema, ValidationError, fields

# Outward code (area + district) and inward code (sector + unit); see the Royal Mail format.
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


class StrictSchema(Schema):
    """HTTP input: a field the API does not know is an error the caller sees, not a silent loss."""

    class Meta:
        unknown = RAISE


def normalise_phone(raw: str) -> str:
    """A UK or international number in E.164 (+447700900123); ValueError if it is not one."""
    try:
        number = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Enter a phone number, like 07700 900123 or 020 7946 0000") from exc
    # Possible (right length for its kind), not merely dialable locally: a cut-off number like
    # "020 854" must be an error, while a number in a range newer than our metadata still passes.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise ValueError("Enter a full phone number, like 07700 900123 or 020 7946 0000")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_postcode(raw: str) -> str:
    """A UK postcode in its standard form (KT1 1EU); ValueError if it is not one."""
    match = POSTCODE.match(re.sub(r"\s+", " ", raw.strip().upper()))
    if not match:
        raise ValueError("Enter a full UK postcode, like KT1 1EU")
    return f"{match.group(1)} {match.group(2)}"


def postcode_district(postcode: str) -> str:
    """The outward code of a normalised postcode: KT1 1EU -> KT1."""
    return postcode.split(" ", 1)[0]


class Phone(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return normalise_phone(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class Postcode(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return normalise_postcode(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
