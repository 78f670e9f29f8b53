"""People sign in to intake: no default accounts; `hub users create` (intake's `users create`)
adds one and prints a one-time link to set a password (argon2id); repeated failures lock the
account for a while; a session expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from intake.models import Person
from intake.people.service import LOCKOUT, MAX_FAILED_SIGN_INS
from tests.unit.conftest import csrf_token_in, hub_of

PASSWORD = "correct horse battery staple"


def create(app: Flask, *args: str) -> str:
    """Run `flask --app intake users create ...`; the link it prints (its path)."""
    result = app.test_cli_runner().invoke(args=["users", "create", *args])
    assert result.exit_code == 0, result.output
    return urlsplit(result.output.strip().splitlines()[-1]).path


def set_password(client: FlaskClient, link: str, password: str = PASSWORD, again: str | None = None) -> int:
    data = {"password": password, "password_again": password if again is None else again}
    return client.post(link, data=data).status_code


def sign_in(client: FlaskClient, email: str = "coord@example.org", password: str = PASSWORD) -> int:
    return client.post("/sign-in", data={"email": email, "password": password}).status_code


@pytest.fixture
def client(intake_app: Flask) -> FlaskClient:
    link = create(intake_app, "--email", "Coord@Example.org", "--role", "coordinator")
    client = intake_app.test_client()
    assert set_password(client, link) == 200
    return client


def test_there_are_no_default_accounts(intake_app: Flask) -> None:
    client = intake_app.test_client()
    for email, password in (("admin@example.org", "admin"), ("admin", "password"), ("", "")):
        assert sign_in(client, email, password) == 401
    assert client.get("/account").status_code == 303


def test_signing_in_goes_back_to_the_hub_page_that_asked_and_never_elsewhere(client: FlaskClient) -> None:
    asked = client.get("/requests/some-request")
    assert asked.status_code == 303 and "/sign-in?next=" in asked.location
    answer = client.post(
        "/sign-in", data={"email": "coord@example.org", "password": PASSWORD, "next": "/requests/x"}
    )
    assert answer.status_code == 303 and answer.location == "/requests/x"
    for elsewhere in (
        "https://evil.example/",
        "//evil.example/x",
        "http://127.0.0.1:8001.evil.example/",
        "/\t/evil.example",  # browsers and werkzeug drop the tab: //evil.example
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        answer = client.post(
            "/sign-in", data={"email": "coord@example.org", "password": PASSWORD, "next": elsewhere}
        )
        assert answer.status_code == 303 and answer.location == "/queue", elsewhere  # their home


def test_a_new_person_sets_their_password_once_through_their_link(intake_app: Flask) -> None:
    link = create(intake_app, "--email", "lead@example.org", "--role", "admin")
    client = intake_app.test_client()
    assert client.get(link).status_code == 200  # opening it sets nothing
    assert sign_in(client, "lead@example.org", "") == 401
    assert set_password(client, link, "short") == 422
    assert set_password(client, link, PASSWORD, again=PASSWORD + "!") == 422
    assert set_password(client, link) == 200
    assert set_password(client, link, "another long password") == 409  # spent
    assert client.get(link[:-3] + "abc").status_code == 404  # altered
    with hub_of(intake_app).db.sessions() as session:
        person = session.query(Person).filter_by(email="lead@example.org").one()
        assert person.password_hash is not None and person.password_hash.startswith("$argon2id$")
        assert PASSWORD not in person.password_hash


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--email", "p@example.org", "--role", "partner"], "names their partner"),
        (
            ["--email", "c@example.org", "--role", "coordinator", "--partner", "foodbank"],
            "names their partner",
        ),
        (["--email", "not-an-email", "--role", "council"], "email address"),
    ],
)
def test_a_person_is_created_only_whole(intake_app: Flask, args: list[str], complaint: str) -> None:
    result = intake_app.test_cli_runner().invoke(args=["users", "create", *args])
    assert result.exit_code != 0 and complaint in result.output


def test_signing_in_and_out(client: FlaskClient) -> None:
    assert sign_in(client, "COORD@example.org") == 303  # an email address in any case
    page = client.get("/account")
    assert page.status_code == 200 and "coord@example.org (coordinator)" in page.get_data(as_text=True)
    assert client.post("/sign-out").status_code == 400  # a form from elsewhere: no CSRF token
    assert client.get("/account").status_code == 200
    token = csrf_token_in(page.get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert client.get("/account").status_code == 303


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(client: FlaskClient) -> None:
    wrong_password = client.post(
        "/sign-in", data={"email": "coord@example.org", "password": "nope nope nope"}
    )
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": PASSWORD})
    assert wrong_password.status_code == unknown.status_code == 401
    assert "The email address or the password is not right." in wrong_password.get_data(as_text=True)
    assert "The email address or the password is not right." in unknown.get_data(as_text=True)


def test_repeated_failures_lock_the_account_for_a_while(intake_app: Flask, client: FlaskClient) -> None:
    for _ in range(MAX_FAILED_SIGN_INS):
        assert sign_in(client, password="guess guess guess") == 401
    locked = client.post("/sign-in", data={"email": "coord@example.org", "password": PASSWORD})
    assert locked.status_code == 401 and "Too many failed attempts" in locked.get_data(as_text=True)
    with hub_of(intake_app).db.transaction() as session:  # the lockout has passed
        past = datetime.now(UTC) - timedelta(seconds=1)
        session.execute(update(Person).values(locked_until=past))
    assert timedelta(minutes=15) <= LOCKOUT
    assert sign_in(client) == 303


def test_a_session_expires_when_idle_and_at_the_end_of_a_long_shift(client: FlaskClient) -> None:
    def ago(**delta: float) -> str:
        return (datetime.now(UTC) - timedelta(**delta)).isoformat()

    assert sign_in(client) == 303
    with client.session_transaction() as session:
        session["signed_in_at"], session["seen_at"] = ago(hours=11), ago(minutes=110)
    assert client.get("/account").status_code == 200  # in use: still signed in, and seen now
    with client.session_transaction() as session:
        assert datetime.fromisoformat(session["seen_at"]) > datetime.now(UTC) - timedelta(minutes=1)
        session["seen_at"] = ago(hours=2, minutes=1)
    assert client.get("/account").status_code == 303  # two hours idle
    assert sign_in(client) == 303
    with client.session_transaction() as session:
        session["signed_in_at"] = ago(hours=12, minutes=1)
    assert client.get("/account").status_code == 303  # twelve hours, however busy
