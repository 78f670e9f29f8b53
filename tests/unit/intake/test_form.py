"""The coordinator's call form: every field is labelled; a mistake gets an error summary that links
to each field and keeps what was typed; a good call is recorded and shows its reference."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from hub_shared.tokens import REQUESTER_CHECK_LINK
from intake.models import HelpRequest
from intake.requests.schemas import CONSENT_WORDING
from tests.support.hub import request_body
from tests.unit.conftest import client_as, hub_of, outbox

CONTROLS = ("input", "select", "textarea")


class Page(HTMLParser):
    """What the tests read of a page: ids, labels, controls and the error summary's links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []  # with "in_label": inside a <label>?
        self.summary_links: list[str] = []
        self._labels_open = 0
        self._in_summary = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "label":
            self._labels_open += 1
            if values.get("for"):
                self.label_for.add(str(values["for"]))
        elif tag in CONTROLS:
            self.controls.append(values | {"tag": tag, "in_label": "yes" if self._labels_open else None})
        elif tag == "div" and "error-summary" in (values.get("class") or ""):
            self._in_summary = True
        elif tag == "a" and self._in_summary:
            self.summary_links.append(str(values.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._labels_open -= 1
        elif tag == "div":
            self._in_summary = False  # the summary holds no nested div

    def control(self, id: str) -> dict[str, str | None]:
        [found] = [c for c in self.controls if c.get("id") == id]
        return found


def post(app: Flask, **fields: str) -> TestResponse:
    return client_as(app).post("/", data=fields)


GOOD_CALL = {
    "name": "Margaret Hill",
    "phone": "020 8547 5000",
    "postcode": "kt1 2ab",
    "address": "12 Example Road, Kingston upon Thames",
    "need": "shopping",
    "urgency": "normal",
    "details": "Weekly shop",
    "consent": "yes",
}


def test_the_form_labels_every_field(intake_app: Flask) -> None:
    """Each text box, list and text area has a <label for=its id>; check boxes sit inside theirs."""
    response = client_as(intake_app).get("/")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    controls = [c for c in page.controls if c.get("type") not in ("hidden", "submit")]
    assert {c.get("id") for c in controls} >= {"name", "phone", "postcode", "address", "need", "details"}
    for control in controls:
        if control.get("type") in ("radio", "checkbox"):
            assert control["in_label"] or control.get("id") in page.label_for, control
        else:
            assert control.get("id") in page.label_for, f"{control.get('id')} has no <label for>"
    assert "There is a problem" not in response.get_data(as_text=True)


def test_an_empty_form_is_a_422_with_an_error_summary_linking_each_field(intake_app: Flask) -> None:
    response = post(intake_app)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "<title>Error:" in html
    page = Page(html)
    assert set(page.summary_links) >= {"#name", "#postcode", "#address", "#need", "#consent"}
    for link in page.summary_links:
        assert link.removeprefix("#") in page.ids, f"the summary links to {link}, which is not on the page"
    # Each field in error says so next to it, and is marked for assistive technology.
    for field in ("name", "postcode", "address", "need"):
        assert f'id="{field}-error"' in html
        assert page.control(field).get("aria-invalid") == "true"
    assert outbox(intake_app) == []


def test_a_form_with_mistakes_keeps_what_was_typed_and_records_nothing(intake_app: Flask) -> None:
    response = post(
        intake_app,
        name="Margaret Hill",
        postcode="not a postcode",
        address="12 Example Road",
        need="prescription",
        urgency="urgent",
        consent="yes",
        phone="020 8547 5000",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.summary_links == ["#postcode"]
    assert page.control("name").get("value") == "Margaret Hill"
    assert page.control("postcode").get("value") == "not a postcode"
    assert page.control("phone").get("value") == "020 8547 5000"
    assert re.search(r'<textarea id="address"[^>]*>12 Example Road</textarea>', html)
    assert '<option value="prescription" selected>' in html
    assert re.search(r'value="urgent" checked', html)
    assert outbox(intake_app) == []


def test_what_was_typed_is_shown_escaped(intake_app: Flask) -> None:
    typed = 'Mo "Bo" <script>alert(1)</script>'
    response = post(intake_app, name=typed)
    html = response.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert Page(html).control("name").get("value") == typed  # the parser unescapes it back


def test_a_good_call_redirects_to_the_request_page_showing_its_reference(intake_app: Flask) -> None:
    client = client_as(intake_app)
    response = client.post("/", data=GOOD_CALL)
    assert response.status_code == 303
    match = re.fullmatch(r"/requests/([0-9a-f-]{36})\?recorded=1", response.headers["Location"])
    assert match, response.headers["Location"]
    [event] = outbox(intake_app, "request.submitted")
    assert event["request_id"] == match.group(1)
    assert event["payload"]["requester"]["postcode"] == "KT1 2AB"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<p class="reference" id="reference">{event["payload"]["reference"]}</p>' in html
    assert "submitted" in html


def test_an_unknown_request_page_is_a_404(intake_app: Flask) -> None:
    response = client_as(intake_app).get("/requests/nope")
    assert response.status_code == 404
    assert "no request with that id" in response.get_data(as_text=True)


def test_an_urgency_error_links_to_the_urgency_choices(intake_app: Flask) -> None:
    response = post(intake_app, **(GOOD_CALL | {"urgency": "whenever"}))
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.summary_links == ["#urgency"]
    assert "urgency" in page.ids


# -- "did you get help?": the requester's answer, from the link in their message ---------------------


def check_path(app: Flask, request_id: str, answer: str) -> str:
    token = hub_of(app).signer.sign(REQUESTER_CHECK_LINK, request_id)
    return f"/requests/check/{token}/{answer}"


def status(app: Flask, request_id: str) -> dict[str, Any]:
    return client_as(app).get(f"/api/v1/requests/{request_id}").get_json()


def test_the_requester_says_no_and_the_request_is_reopened_for_a_coordinator(intake_app: Flask) -> None:
    client = client_as(intake_app)
    created = client.post("/api/v1/requests", json=request_body()).get_json()
    no = check_path(intake_app, created["id"], "no")
    assert client.get(no).status_code == 200
    assert status(intake_app, created["id"])["status"] == "submitted"  # opening the link did nothing
    assert client.post(no).status_code == 200
    reopened = status(intake_app, created["id"])
    assert reopened["status"] == "escalated" and "did not get help" in reopened["timeline"][-1]["summary"]


def test_yes_closes_a_completed_request_and_a_bad_link_opens_nothing(intake_app: Flask) -> None:
    client = client_as(intake_app)
    created = client.post("/api/v1/requests", json=request_body()).get_json()
    with hub_of(intake_app).db.transaction() as session:
        session.execute(update(HelpRequest).where(HelpRequest.id == created["id"]).values(status="completed"))
    yes = check_path(intake_app, created["id"], "yes")
    assert client.post(yes[:-8] + "xx" + yes[-6:]).status_code == 404  # altered
    assert client.post(yes.replace("/yes", "/maybe")).status_code == 404
    offer_token = hub_of(intake_app).signer.sign("offer", created["id"])  # another purpose
    assert client.post(f"/requests/check/{offer_token}/yes").status_code == 404
    assert status(intake_app, created["id"])["status"] == "completed"
    assert client.post(yes).status_code == 200
    assert status(intake_app, created["id"])["status"] == "closed"


# -- someone calling for them, consent wording, and possible duplicates ---------------------------

CALL = {
    "name": "Margaret Hill",
    "phone": "020 8547 5000",
    "postcode": "KT2 6AB",
    "address": "12 Example Road",
    "need": "shopping",
    "urgency": "normal",
    "details": "Milk and bread",
    "consent": "yes",
}


def recorded(app: Flask) -> list[HelpRequest]:
    with hub_of(app).db.sessions() as session:
        return list(session.scalars(select(HelpRequest).order_by(HelpRequest.created_at)))


def test_a_caller_for_someone_else_is_kept_apart_with_the_consent_wording(intake_app: Flask) -> None:
    client = client_as(intake_app)
    missing = client.post("/", data=CALL | {"on_behalf": "yes", "caller_name": "Tom Hill"})
    assert missing.status_code == 422 and "Say who the caller is to them" in missing.get_data(as_text=True)
    assert recorded(intake_app) == []
    saved = client.post("/", data=CALL | {"caller_name": "Tom Hill", "caller_relation": "son"})
    assert saved.status_code == 303  # filled in without ticking the box: still kept, not lost
    [help_request] = recorded(intake_app)
    assert (help_request.caller_name, help_request.caller_relation) == ("Tom Hill", "son")
    assert help_request.requester_name == "Margaret Hill"
    assert help_request.consent_wording == CONSENT_WORDING
    shown = client.get(f"/api/v1/requests/{help_request.id}").get_json()
    assert shown["caller"] == {"name": "Tom Hill", "relation": "son", "contact": None}
    assert [event["payload"].get("caller") for event in outbox(intake_app, "request.submitted")] == [None]


def test_a_second_call_for_the_same_phone_or_address_asks_first(intake_app: Flask) -> None:
    client = client_as(intake_app)
    assert client.post("/", data=CALL).status_code == 303
    [first] = recorded(intake_app)
    same_address = CALL | {
        "phone": "07700 900123",
        "address": "12 example road",
        "details": "Also a prescription",
    }
    for data in (CALL, same_address):
        warned = client.post("/", data=data)
        page = warned.get_data(as_text=True)
        assert warned.status_code == 409 and "This may be a request we already have" in page
        assert first.reference in page and data["details"] in page  # what was typed is kept
        assert len(recorded(intake_app)) == 1
    linked = client.post("/", data=same_address | {"link_to": first.id})
    assert linked.status_code == 303 and linked.location.endswith(first.id)
    assert len(recorded(intake_app)) == 1
    timeline = client.get(f"/api/v1/requests/{first.id}").get_json()["timeline"]
    assert (
        "Another call from the requester: about shopping (normal); Also a prescription; "
        "phone given as +447700900123"
    ) in [entry["summary"] for entry in timeline]
    safeguarding = same_address | {"link_to": first.id, "safeguarding": "yes", "details": "Sounded scared"}
    assert client.post("/", data=safeguarding).status_code == 303
    [escalated] = outbox(intake_app, "request.escalated")
    assert escalated["payload"]["reason"] == "a safeguarding concern was raised on another call"
    assert client.post("/", data=same_address | {"decision": "new"}).status_code == 303
    assert len(recorded(intake_app)) == 2
