"""The coordinators' console in intake: the queue page, a request's page with every field and the
actions on it (each on the timeline with who did it), and who else is on a request."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from intake.people.service import create_person
from tests.support.hub import request_body
from tests.unit.conftest import client_as, csrf_token_in, hub_of, outbox


def coordinator(app: Flask, email: str) -> FlaskClient:
    """A client signed in as a real person (their email is what the timeline shows)."""
    with hub_of(app).db.transaction() as session:
        person_id = create_person(session, hub_of(app).bus, email, "coordinator", None).person.id
    client = client_as(app, "coordinator")
    with client.session_transaction() as cookie:
        cookie["person_id"] = person_id
    return client


def submit(app: Flask, **overrides: Any) -> dict[str, Any]:
    return client_as(app).post("/api/v1/requests", json=request_body(**overrides)).get_json()


def page_of(client: FlaskClient, request_id: str) -> str:
    answer = client.get(f"/requests/{request_id}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_queue_shows_what_needs_a_person_with_counts_and_finds_by_name(intake_app: Flask) -> None:
    quiet = submit(intake_app)
    worrying = submit(intake_app, safeguarding=True)
    client = client_as(intake_app)
    page = client.get("/queue").get_data(as_text=True)
    assert worrying["reference"] in page and quiet["reference"] in page
    assert page.index(worrying["reference"]) < page.index(quiet["reference"])  # safeguarding first
    assert '<span class="count">1</span> safeguarding concerns open' in page
    found = client.post("/queue", data={"query": "Margaret"}).get_data(as_text=True)
    assert "Found: 2" in found
    assert "Found: 0" in client.post("/queue", data={"query": "Nobody Here"}).get_data(as_text=True)
    filtered = client.get("/queue", query_string={"view": "all", "need": "transport"})
    assert "Requests: 0" in filtered.get_data(as_text=True)
    assert "not valid" in client.get("/queue", query_string={"status": "lost"}).get_data(as_text=True)
    far = client.get("/queue", query_string={"created_to": "9999-12-31"})  # once an OverflowError, a 500
    assert far.status_code != 500 and "not valid" in far.get_data(as_text=True)


def test_actions_go_on_the_timeline_with_who_did_them(intake_app: Flask) -> None:
    created = submit(intake_app)
    ada = coordinator(intake_app, "ada@hub.example")
    path = f"/requests/{created['id']}"
    assert ada.post(f"{path}/note", data={"text": "Prefers calls after 10am"}).status_code == 303
    assert ada.post(f"{path}/call", data={"text": "No answer", "with_whom": "her son"}).status_code == 303
    assert ada.post(f"{path}/escalate", data={"text": "Sounds unwell"}).status_code == 303
    page = page_of(ada, created["id"])
    for line in ("Prefers calls after 10am", "Call with her son: No answer", "Escalated: Sounds unwell"):
        assert line in page
    assert page.count("ada@hub.example") >= 3
    assert '<span class="tag" id="status">escalated</span>' in page
    [escalated] = outbox(intake_app, "request.escalated")
    assert escalated["payload"] == {
        "reason": "Sounds unwell",
        "reference": created["reference"],
        "raised_by": "coordinator",
    }

    assert ada.post(f"{path}/close", data={"text": "helped"}).status_code == 303
    assert "Closed: Helped" in page_of(ada, created["id"])
    assert outbox(intake_app, "request.closed")[0]["payload"] == {"reason": "Helped"}
    again = ada.post(f"{path}/cancel", data={"text": "changed mind"})
    assert again.status_code == 409 and "closed already" in again.get_data(as_text=True)
    assert ada.post(f"{path}/reopen", data={"text": "She called back"}).status_code == 303
    assert '<span class="tag" id="status">escalated</span>' in page_of(ada, created["id"])


def test_an_action_without_its_reason_is_an_error_and_changes_nothing(intake_app: Flask) -> None:
    created = submit(intake_app)
    ada = coordinator(intake_app, "ada@hub.example")
    for action, data in (("escalate", {"text": "  "}), ("close", {"text": "because"}), ("note", {})):
        answer = ada.post(f"/requests/{created['id']}/{action}", data=data)
        assert answer.status_code == 422 and "There is a problem" in answer.get_data(as_text=True)
    assert outbox(intake_app, "request.escalated") == outbox(intake_app, "request.closed") == []
    assert '<span class="tag" id="status">submitted</span>' in page_of(ada, created["id"])
    assert ada.post(f"/requests/{created['id']}/explode", data={"text": "x"}).status_code == 404


def test_a_second_coordinator_sees_who_else_is_on_the_request(intake_app: Flask) -> None:
    created = submit(intake_app)
    ada, ben = coordinator(intake_app, "ada@hub.example"), coordinator(intake_app, "ben@hub.example")
    assert "Also on this request" not in page_of(ada, created["id"])
    page = page_of(ben, created["id"])
    assert "Also on this request" in page and "ada@hub.example" in page


def test_the_form_reads_back_the_reference_and_carries_its_csrf_token(intake_app: Flask) -> None:
    client = client_as(intake_app)
    form = client.get("/").get_data(as_text=True)
    assert csrf_token_in(form)
    fields = {
        "name": "Margaret Hill",
        "phone": "020 8547 5000",
        "postcode": "KT2 6AB",
        "address": "12 Example Road",
        "need": "shopping",
        "urgency": "normal",
        "consent": "yes",
    }
    saved = client.post("/", data=fields)
    assert saved.status_code == 303 and saved.location.endswith("?recorded=1")
    page = client.get(saved.location).get_data(as_text=True)
    assert "Read this reference back to the caller" in page


def test_a_duplicate_is_merged_into_the_request_kept_and_nothing_is_deleted(intake_app: Flask) -> None:
    kept, duplicate = submit(intake_app), submit(intake_app)
    ada = coordinator(intake_app, "ada@hub.example")
    path = f"/requests/{duplicate['id']}/merge"
    assert ada.post(path, data={"text": duplicate["reference"]}).status_code == 409  # not into itself
    assert ada.post(path, data={"text": "NOT-THERE"}).status_code == 409
    assert ada.post(path, data={"text": kept["reference"].lower()}).status_code == 303
    page = page_of(ada, duplicate["id"])
    assert f"Closed: A duplicate of {kept['reference']}" in page and "Margaret Hill" in page
    assert f"{duplicate['reference']} was merged into this request" in page_of(ada, kept["id"])
    assert [e["request_id"] for e in outbox(intake_app, "request.closed")] == [duplicate["id"]]


def test_editing_a_request_names_what_changed_and_tells_dispatch(intake_app: Flask) -> None:
    created = submit(intake_app)
    ada = coordinator(intake_app, "ada@hub.example")
    form = ada.get(f"/requests/{created['id']}/edit").get_data(as_text=True)
    assert "Edit request" in form and 'value="Margaret Hill"' in form and "Weekly shop" in form
    fields = {
        "name": "Margaret Hill",
        "phone": "020 8547 5000",
        "postcode": "KT1 2AB",
        "address": "12 Example Road, Kingston upon Thames",
        "need": "prescription",
        "urgency": "urgent",
        "details": "Collect from Boots",
        "consent": "yes",
    }
    assert ada.post(f"/requests/{created['id']}/edit", data=fields | {"need": ""}).status_code == 422
    assert ada.post(f"/requests/{created['id']}/edit", data=fields).status_code == 303
    page = page_of(ada, created["id"])
    assert "Edited: need, urgency, details" in page and "Collect from Boots" in page
    [updated] = outbox(intake_app, "request.updated")
    assert (updated["payload"]["need"], updated["payload"]["urgency"]) == ("prescription", "urgent")
    assert ada.post(f"/requests/{created['id']}/edit", data=fields).status_code == 303  # no change:
    assert len(outbox(intake_app, "request.updated")) == 1  # nothing new to tell
    assert (
        ada.post(f"/requests/{created['id']}/edit", data=fields | {"safeguarding": "yes"}).status_code == 303
    )
    [escalated] = outbox(intake_app, "request.escalated")  # the coordinators are told
    assert escalated["payload"]["reason"] == "a safeguarding concern was added to the request"


def test_a_closed_request_stays_closed_whatever_arrives_late_and_hold_tells_dispatch(
    intake_app: Flask,
) -> None:
    from intake.requests.handlers import record_progress
    from tests.unit.intake.test_service import event

    created = submit(intake_app)
    ada = coordinator(intake_app, "ada@hub.example")
    assert ada.post(f"/requests/{created['id']}/hold", data={"text": "In hospital"}).status_code == 303
    assert outbox(intake_app, "request.held")[0]["payload"] == {"reason": "In hospital"}
    assert ada.post(f"/requests/{created['id']}/cancel", data={"text": "Moved away"}).status_code == 303
    late = event("offer.sent", created["id"])  # sent before dispatch heard of the cancelling
    with hub_of(intake_app).db.transaction() as session:
        record_progress(session, late)
    page = page_of(ada, created["id"])
    assert '<span class="tag" id="status">cancelled</span>' in page and "Offered to volunteer" in page
    assert ada.post(f"/requests/{created['id']}/reopen", data={"text": "Back"}).status_code == 303
    assert outbox(intake_app, "request.reopened")[0]["payload"] == {"reason": "Back"}
