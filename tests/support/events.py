"""Example event payloads for tests, as intake would publish them."""

from __future__ import annotations

from typing import Any


def request_submitted_payload(**overrides: Any) -> dict[str, Any]:
    return {
        "reference": "KXT-4QM",
        "need": "shopping",
        "urgency": "normal",
        "details": "Weekly shop",
        "vulnerable": False,
        "requester": {
            "name": "Margaret Hill",
            "phone": "+442085475000",
            "email": None,
            "postcode": "KT1 2AB",
            "address": "12 Example Road",
        },
    } | overrides
