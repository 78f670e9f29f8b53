"""The pages behind the links in an offer: opening a link changes nothing (mail scanners follow
links); the page's one form does the action; a bad or spent link says why, plainly."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from dispatch.jobs.service import receive_request
from dispatch.models import Offer, Volunteer
from dispatch.urls import OFFER_LINK, TASK_LINK, Links
from hub_shared.events import new_event
from tests.support.events import request_submitted_payload
from tests.support.pages import Form, FormParser
from tests.unit.conftest import client_as, hub_of, outbox
from tests.unit.dispatch.helpers import deps_for

BASE = "http://dispatch.test"


def offered(app: Flask) -> dict[str, Any]:
    """A volunteer and a request, offered to them: the offer.sent payload (with its links)."""
    volunteer = {
        "name": "Asha Patel",
        "email": "asha@example.org",
        "postcode": "KT1 1EU",
        "skills": ["shopping"],
    }
    assert client_as(app).post("/api/v1/volunteers", json=volunteer).status_code == 201
    payload = request_submitted_payload()
    hub = hub_of(app)
    with hub.db.transaction() as session:
        event = new_event("request.submitted", payload, request_id="r-1")
        receive_request(session, replace(deps_for(app), links=Links(signer=hub.signer, base_url=BASE)), event)
    [sent] = outbox(app, "offer.sent")
    return sent["payload"]


def path(url: str) -> str:
    """The test client needs the path only (pages sign links with the configured base URL)."""
    return urlsplit(url).path


def offer_status(app: Flask, offer_id: str) -> str:
    with hub_of(app).db.sessions() as session:
        return session.scalars(select(Offer.status).where(Offer.id == offer_id)).one()


def the_one_form(client: FlaskClient, url: str) -> Form:
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
    assert {"on_duty", "pause", "max_active_tasks"} <= set(form["fields"])
    assert client.post(link, data={"on_duty": "yes", "max_active_tasks": "0"}).status_code == 422
    saved = client.post(link, data={"on_duty": "no", "pause": "yes", "max_active_tasks": "2"})
    assert saved.status_code == 200
    [asha] = client_as(dispatch_app).get("/api/v1/volunteers").get_json()
    assert (asha["status"], asha["on_duty"], asha["max_active_tasks"]) == ("paused", False, 2)
    client.post(link, data={"on_duty": "yes", "max_active_tasks": "2"})
    [asha] = client_as(dispatch_app).get("/api/v1/volunteers").get_json()
    assert (asha["status"], asha["on_duty"]) == ("active", True)
    assert client.get(link[:-4] + "abcd").status_code == 404  # a tampered link


def test_the_availability_link_never_approves_an_applicant(dispatch_app: Flask) -> None:
    client = dispatch_app.test_client()
    body = {"name": "New", "email": "new@example.org", "postcode": "KT1 1EU", "skills": ["shopping"]}
    created = client_as(dispatch_app).post("/api/v1/volunteers", json=body | {"status": "applied"}).get_json()
    link = path(Links(signer=hub_of(dispatch_app).signer, base_url=BASE).availability(created["id"]))
    assert client.post(link, data={"on_duty": "yes", "max_active_tasks": "3"}).status_code == 200
    assert (
        client_as(dispatch_app).get(f"/api/v1/volunteers/{created['id']}").get_json()["status"] == "applied"
    )


# -- a volunteer's weekly times and stopping, on their own page ---------------------------------


def volunteer_json(app: Flask, volunteer_id: str) -> dict[str, Any]:
    return client_as(app).get(f"/api/v1/volunteers/{volunteer_id}").get_json()


def test_a_volunteer_sets_their_weekly_times_on_their_own_page(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    link = path(offer["availability_url"])
    form = the_one_form(client, link)
    assert {"monday-start", "monday-end", "sunday-start", "sunday-end"} <= set(form["fields"])
    base = {"on_duty": "yes", "max_active_tasks": "3"}
    wrong = client.post(
        link, data=base | {"monday-start": "10:00", "monday-end": "09:00", "friday-start": "9"}
    )
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert "Monday: A slot must end after it starts" in text and 'href="#monday-start"' in text
    assert "Friday: " in text and 'value="10:00"' in text  # what was typed stays
    assert volunteer_json(dispatch_app, offer["volunteer"]["id"])["availability"] == []  # nothing saved
    saved = client.post(
        link,
        data=base
        | {"monday-start": "09:00", "monday-end": "12:30", "friday-start": "18:00", "friday-end": "20:00"},
    )
    assert saved.status_code == 200
    assert volunteer_json(dispatch_app, offer["volunteer"]["id"])["availability"] == [
        {"day": "monday", "start": "09:00", "end": "12:30"},
        {"day": "friday", "start": "18:00", "end": "20:00"},
    ]
    assert 'value="12:30"' in client.get(link).get_data(as_text=True)  # shown back next time
    assert client.post(link, data=base).status_code == 200  # every day blank: any time
    assert volunteer_json(dispatch_app, offer["volunteer"]["id"])["availability"] == []


def test_two_times_on_one_day_set_by_the_hub_are_kept_not_lost(dispatch_app: Flask) -> None:
    client = dispatch_app.test_client()
    body = {"name": "Ben", "email": "ben@example.org", "postcode": "KT1 1EU", "skills": ["shopping"]}
    split_day = [
        {"day": "tuesday", "start": "09:00", "end": "10:00"},
        {"day": "tuesday", "start": "17:00", "end": "18:00"},
    ]
    created = (
        client_as(dispatch_app).post("/api/v1/volunteers", json=body | {"availability": split_day}).get_json()
    )
    link = path(Links(signer=hub_of(dispatch_app).signer, base_url=BASE).availability(created["id"]))
    page = client.get(link).get_data(as_text=True)
    assert "Tuesday 09:00 to 10:00, Tuesday 17:00 to 18:00" in page and "tuesday-start" not in page
    assert client.post(link, data={"on_duty": "no", "max_active_tasks": "1"}).status_code == 200
    after = volunteer_json(dispatch_app, created["id"])
    assert after["availability"] == split_day and after["on_duty"] is False


def test_pausing_withdraws_the_offer_waiting_for_an_answer(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    client.post(
        path(offer["availability_url"]), data={"on_duty": "yes", "pause": "yes", "max_active_tasks": "3"}
    )
    assert offer_status(dispatch_app, offer["offer_id"]) == "withdrawn"
    [withdrawn] = outbox(dispatch_app, "offer.withdrawn")
    assert withdrawn["payload"]["reason"] == "stepped_back"
    assert withdrawn["payload"]["volunteer"]["id"] == offer["volunteer"]["id"]
    assert volunteer_json(dispatch_app, offer["volunteer"]["id"])["active_tasks"] == 0


def test_a_mistake_on_the_page_keeps_the_volunteers_other_choices(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    link = path(offer["availability_url"])
    data = {
        "on_duty": "no",
        "pause": "yes",
        "max_active_tasks": "2",
        "monday-start": "25:00",
        "monday-end": "26:00",
    }
    page = dispatch_app.test_client().post(link, data=data).get_data(as_text=True)
    assert 'name="pause" value="yes" checked' in page
    assert 'id="on_duty-no" name="on_duty" value="no" checked' in page
    assert volunteer_json(dispatch_app, offer["volunteer"]["id"])["status"] == "active"  # nothing saved


def test_a_coordinator_pausing_through_the_api_withdraws_waiting_offers(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    changed = client_as(dispatch_app).patch(
        f"/api/v1/volunteers/{offer['volunteer']['id']}", json={"status": "paused"}
    )
    assert changed.status_code == 200 and changed.get_json()["active_tasks"] == 0
    assert offer_status(dispatch_app, offer["offer_id"]) == "withdrawn"
    late = client.post(path(offer["accept_url"]))
    assert late.status_code == 409


def test_a_paused_volunteer_cannot_accept_an_offer_still_out(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    with hub_of(dispatch_app).db.transaction() as session:  # paused behind the hub's back
        session.execute(
            update(Volunteer).where(Volunteer.id == offer["volunteer"]["id"]).values(status="paused")
        )
    refused = dispatch_app.test_client().post(path(offer["accept_url"]))
    assert refused.status_code == 409 and "not taking requests" in refused.get_data(as_text=True)
    assert offer_status(dispatch_app, offer["offer_id"]) == "offered"


def test_stopping_asks_first_then_gives_back_what_they_held(dispatch_app: Flask) -> None:
    offer = offered(dispatch_app)
    client = dispatch_app.test_client()
    assert client.post(path(offer["accept_url"])).status_code == 200
    stop = path(offer["availability_url"]) + "/stop"
    assert "Yes, stop volunteering" in client.get(stop).get_data(as_text=True)
    assert (
        volunteer_json(dispatch_app, offer["volunteer"]["id"])["status"] == "active"
    )  # opening it did nothing
    assert client.post(stop).status_code == 200
    asha = volunteer_json(dispatch_app, offer["volunteer"]["id"])
    assert (asha["status"], asha["active_tasks"]) == ("left", 0)
    assert offer_status(dispatch_app, offer["offer_id"]) == "released"
    [released] = outbox(dispatch_app, "task.released")
    assert released["payload"]["reason"] == "the volunteer stopped volunteering"
    assert client.get(path(offer["availability_url"])).status_code == 409
    assert client.post(stop).status_code == 409


# -- the coordinators' volunteer registry and partner list ---------------------------------------


def register(app: Flask, email: str, **fields: Any) -> str:
    body = {
        "name": email.split("@")[0].capitalize(),
        "email": email,
        "postcode": "KT1 1EU",
        "skills": ["shopping"],
    }
    response = client_as(app).post("/api/v1/volunteers", json=body | fields)
    assert response.status_code == 201
    return response.get_json()["id"]


def test_the_registry_lists_volunteers_by_status_with_counts(dispatch_app: Flask) -> None:
    register(dispatch_app, "asha@example.org")
    register(dispatch_app, "ben@example.org", status="verified")
    register(dispatch_app, "carys@example.org", status="verified")
    client = client_as(dispatch_app)
    everyone = client.get("/volunteers").get_data(as_text=True)
    assert all(name in everyone for name in ("Asha", "Ben", "Carys")) and "(3)" in everyone
    waiting = client.get("/volunteers?status=verified").get_data(as_text=True)
    assert "Ben" in waiting and "Carys" in waiting and "Asha" not in waiting
    assert "(2): waiting for approval" in waiting
    assert client.get("/volunteers?status=famous").status_code == 404


def test_a_coordinator_approves_and_activates_a_volunteer_from_their_page(dispatch_app: Flask) -> None:
    ben = register(dispatch_app, "ben@example.org", status="verified")
    client = client_as(dispatch_app)
    page = client.get(f"/volunteers/{ben}").get_data(as_text=True)
    assert 'value="approve"' in page and 'value="activate"' not in page
    done = client.post(f"/volunteers/{ben}/status", data={"action": "approve"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/volunteers/{ben}")
    assert volunteer_json(dispatch_app, ben)["status"] == "approved"
    again = client.post(f"/volunteers/{ben}/status", data={"action": "approve"})
    assert again.status_code == 409 and "approved cannot be moved" in again.get_data(as_text=True)
    assert client.post(f"/volunteers/{ben}/status", data={"action": "activate"}).status_code == 303
    assert volunteer_json(dispatch_app, ben)["status"] == "active"
    assert client.post(f"/volunteers/{ben}/status", data={"action": "promote"}).status_code == 422
    assert client.post("/volunteers/nobody/status", data={"action": "pause"}).status_code == 404
    assert client.get("/volunteers/nobody").status_code == 404
    assert volunteer_json(dispatch_app, ben)["status"] == "active"


def test_the_sign_up_page_is_not_taken_for_a_volunteer(dispatch_app: Flask) -> None:
    page = client_as(dispatch_app).get("/volunteers/sign-up")
    assert page.status_code == 200 and 'name="consent"' in page.get_data(as_text=True)


def test_the_partner_list_shows_todays_referrals_against_capacity(dispatch_app: Flask) -> None:
    hub = hub_of(dispatch_app)
    payload = request_submitted_payload(need="food_parcel")
    with hub.db.transaction() as session:
        event = new_event("request.submitted", payload, request_id="r-food")
        receive_request(
            session, replace(deps_for(dispatch_app), links=Links(signer=hub.signer, base_url=BASE)), event
        )
    page = client_as(dispatch_app).get("/partners").get_data(as_text=True)
    assert "Kingston Foodbank" in page and "1 of 40" in page and "GoodGym Kingston" in page
