"""Phone numbers and postcodes: what people type becomes one standard form, or a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub_shared.schemas import POSTCODE, normalise_phone, normalise_postcode, postcode_district


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("020 8547 5000", "+442085475000"),  # a London landline
        ("07700 900123", "+447700900123"),  # a UK mobile
        ("+44 7700 900123", "+447700900123"),  # already international
        ("+33 1 23 45 67 89", "+33123456789"),  # a French number stays French
    ],
)
def test_normalise_phone_gives_e164(typed: str, e164: str) -> None:
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "call me",
        "123",
        "++44",
        "07700",
        "020 854",
    ],
)
def test_normalise_phone_rejects_what_is_not_a_full_phone_number(typed: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalise_phone(typed)


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("kt11eu", "KT1 1EU"),
        (" sw1a  1aa ", "SW1A 1AA"),
        ("KT1 1EU", "KT1 1EU"),
        ("m1 1ae", "M1 1AE"),
        ("W1A\t0AX", "W1A 0AX"),
    ],
)
def test_normalise_postcode_gives_the_standard_form(typed: str, standard: str) -> None:
    assert normalise_postcode(typed) == standard


@pytest.mark.parametrize("typed", ["", "   ", "not a postcode", "KT1", "1KT 1EU", "KT1 1E", "KT1 1EU X"])
def test_normalise_postcode_rejects_what_is_not_a_postcode(typed: str) -> None:
    with pytest.raises(ValueError, match="postcode"):
        normalise_postcode(typed)


@pytest.mark.parametrize(
    ("postcode", "district"), [("KT1 1EU", "KT1"), ("SW1A 1AA", "SW1A"), ("M1 1AE", "M1")]
)
def test_postcode_district_is_the_outward_code(postcode: str, district: str) -> None:
    assert postcode_district(postcode) == district


# Mostly postcode-shaped strings (so the valid branch is exercised), plus anything at all.
postcode_like = st.from_regex(r"\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}\s*", fullmatch=True)


@settings(max_examples=300, database=None, deadline=None)
@given(st.one_of(postcode_like, st.text()))
def test_any_string_normalises_to_a_valid_postcode_or_raises_value_error(raw: str) -> None:
    """Never anything in between: a result always matches POSTCODE, and normalising it again
    changes nothing. Any other exception type fails the test."""
    try:
        result = normalise_postcode(raw)
    except ValueError:
        return
    assert POSTCODE.match(result)
    assert result == result.strip() and "  " not in result
    assert normalise_postcode(result) == result
