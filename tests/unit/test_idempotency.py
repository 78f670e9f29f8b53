"""The same creating request sent twice makes one thing: an Idempotency-Key on the APIs, a
single-use token on the call form (issue 11's third defect: two requests, two offers)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select, update

from hub_shared.idempotency import Claim
from intake.models import HelpRequest
from intake.models import IdempotencyKey as IntakeKey
from tests.support.hub import request_body
from tests.unit.conftest import client_as, hub_of, outbox
from tests.unit.intake.test_form import GOOD_CALL

KEY = {"Idempotency-Key": "9b0f6a38-5d2e-4a7c-9a53-2f1c6f3a0c11"}


def requests_recorded(app: Flask) -> int:
    with hub_of(app).db.sessions() as session:
        return session.scalar(select(func.count()).select_from(HelpRequest)) or 0


def test_the_same_key_and_body_again_answers_with_the_first_request_and_records_nothing(
    intake_app: Flask,
) -> None:
    client = client_as(intake_app)
    first = client.post("/api/v1/requests", json=request_body(), headers=KEY)
    again = client.post("/api/v1/requests", json=request_body(), headers=KEY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["reference"] == first.get_json()["reference"]
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert requests_recorded(intake_app) == 1
    assert len(outbox(intake_app, "request.submitted")) == 1


def test_the_same_key_with_another_body_is_a_422_and_records_nothing(intake_app: Flask) -> None:
    client = client_as(intake_app)
    assert client.post("/api/v1/requests", json=request_body(), headers=KEY).status_code == 201
    other = client.post("/api/v1/requests", json=request_body(details="Something else"), headers=KEY)
    assert other.status_code == 422
    assert "Idempotency-Key" in other.get_json()["message"]
    assert requests_recorded(intake_app) == 1


def test_a_key_is_one_callers_and_lasts_a_day(intake_app: Flask) -> None:
    first = client_as(intake_app).post("/api/v1/requests", json=request_body(), headers=KEY)
    # Another token's same key is its own: a new request.
    another = client_as(intake_app, "admin").post("/api/v1/requests", json=request_body(), headers=KEY)
    assert another.status_code == 201 and another.get_json()["id"] != first.get_json()["id"]
    with hub_of(intake_app).db.transaction() as session:
        session.execute(update(IntakeKey).values(created_at=datetime.now(UTC) - timedelta(hours=25)))
    later = client_as(intake_app).post("/api/v1/requests", json=request_body(), headers=KEY)
    assert later.status_code == 201 and later.get_json()["id"] != first.get_json()["id"]
    assert requests_recorded(intake_app) == 3


def test_a_bad_key_is_a_400_and_no_key_makes_a_request_each_time(intake_app: Flask) -> None:
    client = client_as(intake_app)
    for bad in ("x" * 256, "caf\u00e9"):
        answer = client.post("/api/v1/requests", json=request_body(), headers={"Idempotency-Key": bad})
        assert answer.status_code == 400, bad
    assert requests_recorded(intake_app) == 0
    for _ in range(2):
        assert client.post("/api/v1/requests", json=request_body()).status_code == 201
    assert requests_recorded(intake_app) == 2


def test_the_same_key_sent_at_the_same_moment_records_one_request(intake_app: Flask) -> None:
    one_caller = client_as(intake_app)
    clients = [intake_app.test_client() for _ in range(6)]
    for client in clients:
        client.environ_base.update(one_caller.environ_base)  # one token: one caller's key
    start = threading.Barrier(len(clients))
    answers: list[tuple[int, str]] = []

    def send(client: object) -> None:
        start.wait()
        answer = client.post("/api/v1/requests", json=request_body(), headers=KEY)  # type: ignore[attr-defined]
        answers.append((answer.status_code, answer.get_json()["id"]))

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == 6 and {status for status, _ in answers} == {201}
    assert len({request_id for _, request_id in answers}) == 1
    assert requests_recorded(intake_app) == 1


def test_a_volunteer_registered_twice_with_one_key_is_one_volunteer(dispatch_app: Flask) -> None:
    client = client_as(dispatch_app)
    body = {"name": "Asha Patel", "email": "asha@example.org", "postcode": "KT1 1EU", "skills": ["shopping"]}
    first = client.post("/api/v1/volunteers", json=body, headers=KEY)
    again = client.post("/api/v1/volunteers", json=body, headers=KEY)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


def form_token(page: str) -> str:
    found = re.search(r'name="once" value="([^"]+)"', page)
    assert found, "the call form carries no single-use token"
    return found.group(1)


def test_the_call_form_sent_twice_records_one_request(intake_app: Flask) -> None:
    client = client_as(intake_app)
    call = GOOD_CALL | {"once": form_token(client.get("/").get_data(as_text=True))}
    first = client.post("/", data=call)
    again = client.post("/", data=call)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.location == first.location
    assert requests_recorded(intake_app) == 1
    # A new form with the same details is another call: the duplicate warning, then a choice.
    new_call = GOOD_CALL | {"once": form_token(client.get("/").get_data(as_text=True))}
    assert client.post("/", data=new_call).status_code == 409
    assert client.post("/", data=new_call | {"decision": "new"}).status_code == 303
    assert requests_recorded(intake_app) == 2


def test_two_clicks_at_the_same_moment_record_one_request(intake_app: Flask) -> None:
    clients = [client_as(intake_app) for _ in range(2)]
    call = GOOD_CALL | {"once": form_token(clients[0].get("/").get_data(as_text=True))}
    start = threading.Barrier(2)
    locations: list[str] = []

    def click(client: object) -> None:
        start.wait()
        locations.append(client.post("/", data=call).location)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=click, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(locations) == 2 and locations[0] == locations[1]
    assert requests_recorded(intake_app) == 1


def test_a_saved_form_sent_again_with_changes_keeps_them_and_asks_again(intake_app: Flask) -> None:
    client = client_as(intake_app)
    token = form_token(client.get("/").get_data(as_text=True))
    saved = client.post("/", data=GOOD_CALL | {"once": token})
    assert saved.status_code == 303
    changed = client.post("/", data=GOOD_CALL | {"once": token, "details": "Two bags of shopping"})
    page = changed.get_data(as_text=True)
    with hub_of(intake_app).db.sessions() as session:
        [reference] = session.scalars(select(HelpRequest.reference)).all()
    assert changed.status_code == 409
    assert f"This form was saved already, as request {reference}" in page
    assert f'href="{saved.location.split("?")[0]}"' in page  # a link to it, to edit it
    assert "Two bags of shopping" in page  # what was typed is kept
    new_token = form_token(page)
    assert new_token != token
    resent = client.post(
        "/", data=GOOD_CALL | {"once": new_token, "details": "Two bags of shopping", "decision": "new"}
    )
    assert resent.status_code == 303
    assert requests_recorded(intake_app) == 2


def test_a_tampered_form_token_shows_the_form_again_as_typed_and_records_nothing(intake_app: Flask) -> None:
    client = client_as(intake_app)
    for tampered in ("x" * 300, "forged", "caf\u00e9-token-0123456789ab"):
        answer = client.post("/", data=GOOD_CALL | {"once": tampered, "details": "Milk and bread"})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 400 and "nothing was recorded" in page
        assert "Milk and bread" in page and form_token(page) != tampered
    assert requests_recorded(intake_app) == 0


def test_the_fingerprint_is_keyed_with_the_hub_secret() -> None:
    """What was asked holds a caller's name, phone and address: a plain hash of it, kept for a
    day, would let anyone with the database check a guess of who called."""
    asked = {"name": "Margaret Hill", "phone": "+442085475000"}
    plain = hashlib.sha256(json.dumps(asked, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    ours = Claim.of("scope", "key", asked, secret="the-hub-secret-0123456789").fingerprint
    theirs = Claim.of("scope", "key", asked, secret="a-guessers-secret-0123456").fingerprint
    assert len({plain, ours, theirs}) == 3
    assert Claim.of("scope", "key", dict(asked), secret="the-hub-secret-0123456789").fingerprint == ours
