"""The pages behind the links in an offer: opening a link changes nothing (mail scanners follow
links); the page's one form does the action; a bad or spent link says why, plainly."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatch.models import Offer
from dispatch.service import OFFER_LINK, TASK_LINK, Links, receive_request
from hub_shared.events import new_event
from tests.support.events import request_submitted_payload
from tests.support.pages import FormParser
from tests.unit.conftest import hub_of, outbox

BASE = "http://dispatch.test"


def offered(app: Flask) -> dict[str, Any]:
    """A volunteer and a request, offered to them: the offer.sent payload (with its links)."""
    volunteer = {
        "name": "Asha Patel",
        "email": "asha@example.org",
        "postcode": "KT1 1EU",
        "skills": ["shopping"],
    }
    assert app.test_client().post("/api/v1/volunteers", json=volunteer).status_code == 201
    payload = request_submitted_payload()
    hub = hub_of(app)
    with hub.db.transaction() as session:
        event = new_event("request.submitted", payload, request_id="r-1")
        receive_request(session, hub.bus, Links(signer=hub.signer, base_url=BASE), event)
    [sent] = outbox(app, "offer.sent")
    return sent["payload"]


def path(url: str) -> str:
    """The test client needs the path only (pages sign links with the configured base URL)."""
    return urlsplit(url).path


def offer_status(app: Flask, offer_id: str) -> str:
    with hub_of(app).db.sessions() as session:
        return session.scalars(select(Offer.status).where(Offer.id == offer_id)).one()


def the_one_form(client: FlaskClient, url: str) -> dict[str, Any]:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    parser = FormParser()
    parser.feed(page.get_data(as_text=True))
    assert len(parser.forms) == 1
    return parser.forms[0]


def test_opening_an_offer_link_shows_one_form_and_changes_nothing(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    form = the_one_form(client, path(offer["accept_url"]))
    assert form["method"] == "post" and form["action"] == ""  # posts back to the same link
    page = client.get(path(offer["accept_url"])).get_data(as_text=True)
    assert "KXT-4QM" in page and "Yes, I can help" in page
    assert "12 Example Road" not in page  # the address is shared only on acceptance
    assert offer_status(dispatch_app, offer["offer_id"]) == "offered"
    assert outbox(dispatch_app, "offer.accepted") == []


def test_posting_the_form_accepts_and_shows_the_details(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    response = dispatch_app.test_client().post(path(offer["accept_url"]))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Thank you for helping" in page and "12 Example Road" in page
    assert offer_status(dispatch_app, offer["offer_id"]) == "accepted"
    [accepted] = outbox(dispatch_app, "offer.accepted")
    assert accepted["payload"]["offer_id"] == offer["offer_id"]


def test_posting_the_decline_form_declines(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    response = dispatch_app.test_client().post(path(offer["decline_url"]))
    assert response.status_code == 200
    assert "Offer declined" in response.get_data(as_text=True)
    assert offer_status(dispatch_app, offer["offer_id"]) == "declined"


def test_a_tampered_link_is_a_404_with_a_clear_message(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    token = path(offer["accept_url"]).split("/")[2]
    tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    client = dispatch_app.test_client()
    for method in (client.get, client.post):
        response = method(f"/offers/{tampered}/accept")
        assert response.status_code == 404
        assert "This link is not valid. Check it was copied in full." in response.get_data(as_text=True)
    assert offer_status(dispatch_app, offer["offer_id"]) == "offered"


def test_a_link_for_another_purpose_or_action_is_a_404(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    signer = hub_of(dispatch_app).signer
    client = dispatch_app.test_client()
    task_token = signer.sign(TASK_LINK, offer["offer_id"])  # a genuine token, for the wrong page
    assert client.post(f"/offers/{task_token}/accept").status_code == 404
    offer_token = signer.sign(OFFER_LINK, offer["offer_id"])
    assert client.post(f"/offers/{offer_token}/snooze").status_code == 404
    assert client.post(f"/tasks/{offer_token}/complete").status_code == 404
    assert client.get(f"/offers/{signer.sign(OFFER_LINK, 'no-such-offer')}/accept").status_code == 404
    assert offer_status(dispatch_app, offer["offer_id"]) == "offered"


def test_a_spent_link_is_a_409_that_says_why(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    assert client.post(path(offer["accept_url"])).status_code == 200
    for response in (client.post(path(offer["decline_url"])), client.get(path(offer["decline_url"]))):
        assert response.status_code == 409
        assert "You have already accepted this offer" in response.get_data(as_text=True)
    assert offer_status(dispatch_app, offer["offer_id"]) == "accepted"
    assert outbox(dispatch_app, "offer.declined") == []


def test_the_complete_link_marks_the_task_done_once(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    client.post(path(offer["accept_url"]))
    [accepted] = outbox(dispatch_app, "offer.accepted")
    complete = path(accepted["payload"]["complete_url"])
    assert the_one_form(client, complete)["method"] == "post"
    assert offer_status(dispatch_app, offer["offer_id"]) == "accepted"  # opening it did nothing
    assert client.post(complete).status_code == 200
    assert offer_status(dispatch_app, offer["offer_id"]) == "completed"
    again = client.post(complete)
    assert again.status_code == 409
    assert "already marked as done" in again.get_data(as_text=True)
    assert len(outbox(dispatch_app, "task.completed")) == 1


def test_the_release_link_asks_why_then_gives_the_task_back(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    client.post(path(offer["accept_url"]))
    [accepted] = outbox(dispatch_app, "offer.accepted")
    release = path(accepted["payload"]["release_url"])
    assert "reason" in the_one_form(client, release)["fields"]
    no_reason = client.post(release, data={"reason": "  "})
    assert no_reason.status_code == 422 and "Tell us why" in no_reason.get_data(as_text=True)
    assert offer_status(dispatch_app, offer["offer_id"]) == "accepted"  # nothing changed
    assert client.post(release, data={"reason": "I have Covid"}).status_code == 200
    assert offer_status(dispatch_app, offer["offer_id"]) == "released"
    [released] = outbox(dispatch_app, "task.released")
    assert released["payload"]["reason"] == "I have Covid"
    assert client.post(release, data={"reason": "again"}).status_code == 409


def test_the_availability_link_in_an_offer_lets_a_volunteer_pause_and_come_back(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    link = path(offer["availability_url"])
    form = the_one_form(client, link)
    assert {"on_duty", "paused", "max_active_tasks"} <= set(form["fields"])
    assert client.post(link, data={"on_duty": "yes", "max_active_tasks": "0"}).status_code == 422
    saved = client.post(link, data={"on_duty": "no", "paused": "yes", "max_active_tasks": "2"})
    assert saved.status_code == 200
    [asha] = client.get("/api/v1/volunteers").get_json()
    assert (asha["status"], asha["on_duty"], asha["max_active_tasks"]) == ("paused", False, 2)
    client.post(link, data={"on_duty": "yes", "max_active_tasks": "2"})
    [asha] = client.get("/api/v1/volunteers").get_json()
    assert (asha["status"], asha["on_duty"]) == ("active", True)
    assert client.get(link[:-4] + "abcd").status_code == 404  # a tampered link


def test_the_availability_link_never_approves_an_applicant(dispatch_app: Flask) -> None:
    client = dispatch_app.test_client()
    body = {"name": "New", "email": "new@example.org", "postcode": "KT1 1EU", "skills": ["shopping"]}
    created = client.post("/api/v1/volunteers", json=body | {"status": "applied"}).get_json()
    link = path(Links(signer=hub_of(dispatch_app).signer, base_url=BASE).availability(created["id"]))
    assert client.post(link, data={"on_duty": "yes", "max_active_tasks": "3"}).status_code == 200
    assert client.get(f"/api/v1/volunteers/{created['id']}").get_json()["status"] == "applied"
