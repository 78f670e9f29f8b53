"""Each service serves its OpenAPI document, generated from its marshmallow schemas, to anyone
with a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.conftest import client_as, make_app

# A path and a schema each document must describe: generated from the code, not written by hand.
EXPECTED = {
    "intake": ("/api/v1/requests", "RequestIn"),
    "dispatch": ("/api/v1/referrals/{referral_id}/reject", "RejectionIn"),
    "notify": ("/api/v1/messages/search", "PersonQuery"),
}


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_each_service_serves_its_openapi_document(service: str, tmp_path: Path) -> None:
    app = next(make_app(tmp_path, service))
    assert app.test_client().get("/api/openapi.json").status_code == 401
    document = client_as(app, "council").get("/api/openapi.json").get_json()
    path, schema = EXPECTED[service]
    assert document["openapi"].startswith("3.")
    assert path in document["paths"] and schema in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["security"] == [{"bearer": []}]
