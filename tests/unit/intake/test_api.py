"""intake's requests API: good input is recorded and announced; bad input gets a clear error
and changes nothing."""

from __future__ import annotations

from flask import Flask

from tests.support.hub import request_body
from tests.unit.conftest import client_as, outbox


def test_a_request_is_recorded_with_a_readable_reference_and_announced(intake_app: Flask) -> None:
    response = client_as(intake_app).post("/api/v1/requests", json=request_body())
    assert response.status_code == 201
    created = response.get_json()
    assert created["status"] == "submitted"
    assert len(created["reference"]) == 7 and created["reference"][3] == "-"
    [event] = outbox(intake_app, "request.submitted")
    assert event["request_id"] == created["id"]
    assert event["payload"]["requester"]["phone"] == "+442085475000"  # E.164
    assert event["payload"]["requester"]["postcode"] == "KT1 2AB"


def test_bad_input_gets_field_errors_and_changes_nothing(intake_app: Flask) -> None:
    body = request_body(need="juggling")
    body["requester"]["postcode"] = "not a postcode"
    response = client_as(intake_app).post("/api/v1/requests", json=body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]["json"]
    assert "need" in errors and "postcode" in errors["requester"]
    assert outbox(intake_app) == []


def test_malformed_json_is_a_400_and_an_oversized_body_a_413(intake_app: Flask) -> None:
    client = client_as(intake_app)
    malformed = client.post("/api/v1/requests", data="{not json", content_type="application/json")
    assert malformed.status_code == 400
    huge = client.post("/api/v1/requests", data="x" * 100_000, content_type="application/json")
    assert huge.status_code == 413
    assert outbox(intake_app) == []


def test_an_unknown_field_is_an_error_not_silently_dropped(intake_app: Flask) -> None:
    response = client_as(intake_app).post("/api/v1/requests", json=request_body(urgnecy="urgent"))
    assert response.status_code == 422
    assert "urgnecy" in response.get_json()["errors"]["json"]


def test_an_unknown_request_is_a_404(intake_app: Flask) -> None:
    assert client_as(intake_app).get("/api/v1/requests/nope").status_code == 404
