"""People offer to volunteer on a public page: consent recorded with its wording, an email link
to verify their address (only the page's button verifies it), then a coordinator approves."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import select

from dispatch.models import Volunteer
from dispatch.volunteers.service import SIGN_UP_CONSENT
from tests.support.pages import FormParser
from tests.unit.conftest import client_as, hub_of, outbox

FORM = {
    "name": "Priya Shah",
    "email": "priya@example.org",
    "phone": "07700 900555",
    "postcode": "kt2 6aa",
    "skills": ["shopping", "dog_walking"],
    "consent": "yes",
}


def volunteer(app: Flask, email: str) -> Volunteer:
    with hub_of(app).db.sessions() as session:
        found = session.scalar(select(Volunteer).where(Volunteer.email == email))
        assert found is not None
        return found


def test_the_sign_up_page_has_labelled_fields_and_the_consent_wording(dispatch_app: Flask) -> None:
    page = dispatch_app.test_client().get("/volunteers/sign-up")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert SIGN_UP_CONSENT in text
    for field in ("name", "email", "phone", "postcode"):
        assert f'<label for="{field}">' in text


def test_a_sign_up_is_recorded_as_applied_with_its_consent_and_sent_a_link(dispatch_app: Flask) -> None:
    response = dispatch_app.test_client().post("/volunteers/sign-up", data=FORM)
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    priya = volunteer(dispatch_app, "priya@example.org")
    assert (priya.status, priya.on_duty, priya.postcode) == ("applied", False, "KT2 6AA")
    assert priya.skill_names == ["dog_walking", "shopping"]
    assert priya.consent_wording == SIGN_UP_CONSENT and priya.consent_given_at is not None
    assert priya.email_verified_at is None
    [event] = outbox(dispatch_app, "volunteer.signed_up")
    assert event["payload"]["volunteer"]["email"] == "priya@example.org"
    assert "/volunteers/verify/" in event["payload"]["verify_url"]


def test_bad_input_is_shown_inline_and_nothing_is_recorded(dispatch_app: Flask) -> None:
    response = dispatch_app.test_client().post(
        "/volunteers/sign-up", data=FORM | {"email": "not-an-email", "skills": [], "consent": ""}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "There is a problem" in text
    for message in ("Enter an email address", "Choose at least one way you can help", "You must agree"):
        assert message in text
    assert 'value="Priya Shah"' in text  # what they typed is kept
    assert outbox(dispatch_app) == []


def test_signing_up_twice_reveals_nothing_and_changes_nothing(dispatch_app: Flask) -> None:
    client = dispatch_app.test_client()
    first = client.post("/volunteers/sign-up", data=FORM)
    again = client.post("/volunteers/sign-up", data=FORM | {"name": "Someone Else"})
    assert again.get_data(as_text=True) == first.get_data(as_text=True)
    assert volunteer(dispatch_app, "priya@example.org").name == "Priya Shah"
    assert len(outbox(dispatch_app, "volunteer.signed_up")) == 1


def test_the_link_verifies_only_when_its_button_is_pressed(dispatch_app: Flask) -> None:
    client = dispatch_app.test_client()
    client.post("/volunteers/sign-up", data=FORM)
    [event] = outbox(dispatch_app, "volunteer.signed_up")
    link = urlsplit(event["payload"]["verify_url"]).path
    page = client.get(link)
    parser = FormParser()
    parser.feed(page.get_data(as_text=True))
    assert len(parser.forms) == 1 and parser.forms[0]["method"] == "post"
    assert volunteer(dispatch_app, "priya@example.org").status == "applied"  # opening did nothing
    assert client.post(link).status_code == 200
    priya = volunteer(dispatch_app, "priya@example.org")
    assert priya.status == "verified" and priya.email_verified_at is not None
    assert client.post(link[:-3] + "xyz").status_code == 404  # a tampered link


def test_a_coordinator_approves_a_verified_volunteer_who_can_then_be_offered_work(
    dispatch_app: Flask,
) -> None:
    client = dispatch_app.test_client()
    client.post("/volunteers/sign-up", data=FORM)
    priya = volunteer(dispatch_app, "priya@example.org")
    approved = client_as(dispatch_app).patch(
        f"/api/v1/volunteers/{priya.id}", json={"status": "active", "on_duty": True}
    )
    assert approved.status_code == 200
    assert (approved.get_json()["status"], approved.get_json()["on_duty"]) == ("active", True)
