"""The requests list (`GET /api/v1/requests`) behind the coordinators' queue: filters, pages, what
needs a person now first, search by reference, phone or name in the body; the council reads
without personal details and may not write."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update

from intake.models import HelpRequest
from tests.support.hub import request_body
from tests.unit.conftest import client_as, hub_of

PERSONAL = ("requester", "details", "timeline", "candidates", "Margaret", "Example Road", "+44")


def submit(app: Flask, **overrides: Any) -> dict[str, Any]:
    answer = client_as(app).post("/api/v1/requests", json=request_body(**overrides))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()


def set_columns(app: Flask, request_id: str, **values: Any) -> None:
    with hub_of(app).db.transaction() as session:
        session.execute(update(HelpRequest).where(HelpRequest.id == request_id).values(**values))


def listed(app: Flask, role: str = "coordinator", **query: Any) -> list[str]:
    answer = client_as(app, role).get("/api/v1/requests", query_string=query)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [item["reference"] for item in answer.get_json()]


def test_filters_narrow_the_list_and_pages_split_it(intake_app: Flask) -> None:
    shopping = [submit(intake_app)["reference"] for _ in range(3)]
    parcel = submit(intake_app, need="food_parcel", urgency="urgent")["reference"]
    elsewhere = submit(intake_app, requester={**request_body()["requester"], "postcode": "SW19 1AA"})
    assert set(listed(intake_app, need="shopping")) == {*shopping, elsewhere["reference"]}
    assert listed(intake_app, urgency="urgent") == [parcel]
    assert listed(intake_app, district="sw19") == [elsewhere["reference"]]
    today = datetime.now(UTC).date()
    assert len(listed(intake_app, created_from=today.isoformat(), created_to=today.isoformat())) == 5
    assert listed(intake_app, created_to=(today - timedelta(days=2)).isoformat()) == []

    client = client_as(intake_app)
    first = client.get("/api/v1/requests", query_string={"page_size": 2})
    second = client.get("/api/v1/requests", query_string={"page_size": 2, "page": 2})
    assert json.loads(first.headers["X-Pagination"])["total"] == 5
    pages = [item["id"] for item in first.get_json() + second.get_json()]
    assert len(pages) == len(set(pages)) == 4  # newest first, no request twice

    bad = client.get("/api/v1/requests", query_string={"status": "lost", "need": "juggling"})
    assert bad.status_code == 422 and {"status", "need"} <= set(bad.get_json()["errors"]["query"])


def test_what_needs_a_person_now_comes_first_in_its_order(intake_app: Flask) -> None:
    now = datetime.now(UTC)
    assigned = submit(intake_app)
    set_columns(intake_app, assigned["id"], status="assigned")
    overdue = submit(intake_app)
    set_columns(intake_app, overdue["id"], status="offered", due_at=now - timedelta(hours=1))
    unmatched = submit(intake_app)
    safeguarding = submit(intake_app, safeguarding=True)
    set_columns(intake_app, safeguarding["id"], status="assigned")
    escalated = submit(intake_app)
    set_columns(intake_app, escalated["id"], status="escalated")
    done = submit(intake_app, safeguarding=True)
    set_columns(intake_app, done["id"], status="completed", due_at=now - timedelta(days=1))

    expected = [escalated, safeguarding, overdue, unmatched]
    assert listed(intake_app, needs_attention="true") == [r["reference"] for r in expected]


def test_search_by_reference_phone_or_name_goes_in_the_body(intake_app: Flask) -> None:
    margaret = submit(intake_app)
    other = submit(
        intake_app,
        requester={
            **request_body()["requester"],
            "name": "Tom Jones",
            "phone": None,
            "email": "tom@example.org",
        },
    )
    client = client_as(intake_app)
    for query in (margaret["reference"].lower(), "020 8547 5000", "margaret h"):
        found = client.post("/api/v1/requests/search", json={"query": query}).get_json()
        assert [r["reference"] for r in found] == [margaret["reference"]], query
    assert client.post("/api/v1/requests/search", json={"query": "TOM"}).get_json()[0]["id"] == other["id"]
    assert client.post("/api/v1/requests/search", json={"query": "%%"}).get_json() == []  # not a wildcard


def test_a_council_token_reads_without_personal_details_and_may_not_write(intake_app: Flask) -> None:
    created = submit(intake_app)
    council = client_as(intake_app, "council")
    listing = council.get("/api/v1/requests")
    assert listing.status_code == 200 and listing.get_json()[0]["reference"] == created["reference"]
    one = council.get(f"/api/v1/requests/{created['id']}")
    assert one.status_code == 200 and one.get_json()["status"] == "submitted"
    for answer in (listing, one):
        assert not any(word in answer.get_data(as_text=True) for word in PERSONAL)
    assert council.post("/api/v1/requests", json=request_body()).status_code == 403
    assert council.post("/api/v1/requests/search", json={"query": "Margaret"}).status_code == 403
    assert listed(intake_app) == [created["reference"]]  # nothing was added
    assert "Margaret" in client_as(intake_app).get(f"/api/v1/requests/{created['id']}").get_data(as_text=True)
