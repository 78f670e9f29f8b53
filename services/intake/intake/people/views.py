"""Signing in and out, one's account, the one-time link to set a password, and the requester's
"did you get help?" link. Each link is protected by its own signature."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from hub_shared.access import current_caller, start_session
from hub_shared.tokens import InvalidLink
from intake.bootstrap import intake
from intake.models import Person
from intake.people.service import Refused, set_password, sign_in
from intake.requests.service import requester_answered

people = Blueprint("people", __name__)

HOME = {
    "admin": "console.queue_page",
    "coordinator": "console.queue_page",
    "council": "council.dashboard_page",
}


def signed_in() -> Person | None:
    """The person signed in on this browser (the access check has read their session)."""
    caller = current_caller()
    if caller is None or caller.kind != "person":
        return None
    with intake().db.sessions() as db_session:
        return db_session.get(Person, caller.id)


def safe_next(target: str | None) -> str | None:
    """Where to go after signing in: back to the hub page that sent the browser here (a page of
    one of the three services, at its public address), never anywhere else."""
    if not target or any(ord(c) < 32 or c == "\\" for c in target):
        return None
    for base in intake().hub_addresses:
        if target == base or target.startswith(base + "/"):
            return target
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@people.route("/sign-in", methods=["GET", "POST"])
def sign_in_page() -> tuple[str, int] | Response:
    next_page = request.values.get("next", "")
    if request.method == "GET":
        return render_template("sign_in.html", error=None, email="", next_page=next_page), 200
    email, password = request.form.get("email", ""), request.form.get("password", "")
    hub = intake()
    with hub.uow.begin() as db_session:
        try:
            person = sign_in(db_session, hub.passwords, email, password)
            who = (person.id, person.role, person.partner)
        except Refused as exc:  # caught inside the transaction: the failure count is kept
            page = render_template("sign_in.html", error=str(exc), email=email, next_page=next_page)
            return page, 401
    start_session(*who)
    home = url_for(HOME[who[1]]) if who[1] in HOME else f"{hub.dispatch_url}/partner"
    return redirect(safe_next(next_page) or home, code=303)


@people.post("/sign-out")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("people.sign_in_page"), code=303)


@people.get("/account")
def account() -> tuple[str, int] | Response:
    person = signed_in()
    if person is None:
        return redirect(url_for("people.sign_in_page"), code=303)
    return render_template("account.html", person=person), 200


@people.route("/password/<token>", methods=["GET", "POST"])
def set_password_page(token: str) -> tuple[str, int]:
    """The one-time link from `hub users create`: choose a password (only the POST sets it)."""
    hub = intake()
    try:
        nonce = hub.links.password_nonce(token)
    except InvalidLink:
        abort(404, description="This link is not valid. Ask an admin for a new one.")
    if request.method == "GET":
        return render_template("password.html", error=None), 200
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return render_template("password.html", error="The two passwords are not the same"), 422
    try:
        hub.uow.run(set_password, hub.passwords, nonce, password)
    except ValueError as exc:
        status = 409 if isinstance(exc, Refused) else 422
        return render_template("password.html", error=str(exc)), status
    return render_template("answered.html", thanks="Your password is set. You can sign in now."), 200


@people.route("/requests/check/<token>/<answer>", methods=["GET", "POST"])
def requester_check(token: str, answer: str) -> tuple[str, int]:
    """ "Did you get help?": the link in the message to a requester who agreed to updates opens
    a page; only its button answers (mail scanners open links)."""
    if answer not in ("yes", "no"):
        abort(404)
    hub = intake()
    try:
        request_id = hub.links.checked_request(token)
    except InvalidLink:
        abort(404, description="This link is not valid or has expired. Please call the hub.")
    if request.method == "GET":
        return render_template("check.html", got_help=answer == "yes"), 200
    hub.uow.run(requester_answered, hub.bus, request_id, got_help=answer == "yes")
    thanks = (
        "Thank you for telling us." if answer == "yes" else "Thank you. Someone from the hub will call you."
    )
    return render_template("answered.html", thanks=thanks), 200
