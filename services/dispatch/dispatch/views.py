"""dispatch's routes: the volunteer registry API, and the pages a volunteer opens from a link.

Links in messages only open a page; the action happens on the POST from that page, because
mail scanners follow links and must never accept an offer for anyone.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest import abort as api_abort
from marshmallow import ValidationError
from sqlalchemy import select

from dispatch import links, policy
from dispatch.models import Offer, Volunteer
from dispatch.schemas import SignUpIn, VolunteerChanges, VolunteerIn, VolunteerOut
from dispatch.service import (
    AVAILABILITY_LINK,
    LINK_MAX_AGE,
    OFFER_LINK,
    SIGN_UP_CONSENT,
    TASK_LINK,
    VOLUNTEER_LINK,
    Conflict,
    NotFound,
    accept_offer,
    change_own_availability,
    change_volunteer,
    complete_task,
    decline_offer,
    get_offer,
    get_volunteer,
    offer_closed_reason,
    register_volunteer,
    release_task,
    sign_up,
    verify_email,
)
from hub_shared.app import context
from hub_shared.tokens import ExpiredLink, InvalidLink

api = ApiBlueprint("volunteers", __name__, url_prefix="/api/v1/volunteers", description="Volunteers")
pages = Blueprint("pages", __name__)


@api.route("")
class Volunteers(MethodView):
    @api.arguments(VolunteerIn)
    @api.response(201, VolunteerOut)
    def post(self, data: dict[str, Any]) -> Volunteer:
        """Register a volunteer (approved and active)."""
        hub = context()
        try:
            with hub.db.transaction() as session:
                return register_volunteer(session, data)
        except Conflict as exc:
            api_abort(409, message=str(exc))

    @api.response(200, VolunteerOut(many=True))
    def get(self) -> list[Volunteer]:
        """Every volunteer, newest first."""
        with context().db.sessions() as session:
            return list(session.scalars(select(Volunteer).order_by(Volunteer.created_at.desc())))


@api.route("/<volunteer_id>")
class VolunteerById(MethodView):
    @api.response(200, VolunteerOut)
    def get(self, volunteer_id: str) -> Volunteer:
        """One volunteer."""
        with context().db.sessions() as session:
            try:
                return get_volunteer(session, volunteer_id)
            except NotFound:
                api_abort(404, message="There is no volunteer with that id.")

    @api.arguments(VolunteerChanges)
    @api.response(200, VolunteerOut)
    def patch(self, changes: dict[str, Any], volunteer_id: str) -> Volunteer:
        """Change a volunteer: pause them, take them off duty, renew their DBS check..."""
        try:
            with context().db.transaction() as session:
                return change_volunteer(session, volunteer_id, changes)
        except NotFound:
            api_abort(404, message="There is no volunteer with that id.")


# -- the pages behind the links in messages ---------------------------------------------------

OFFER_ACTIONS = {
    "accept": ("Can you help?", "Yes, I can help"),
    "decline": ("Decline this request?", "No, I can't help this time"),
}


class BadLink(Exception):
    """A link that cannot be followed; the message says why, for the page shown instead."""


@pages.errorhandler(BadLink)
def bad_link(error: BadLink) -> tuple[str, int]:
    return closed(str(error), 404)


def id_from_link(purpose: str, token: str, max_age: int, *, expired: str = "This link has expired.") -> str:
    """The id a signed link carries; BadLink (shown as a 404 page) if it is altered or too old."""
    try:
        return context().signer.verify(purpose, token, max_age_seconds=max_age)
    except ExpiredLink as exc:
        raise BadLink(expired) from exc
    except InvalidLink as exc:
        raise BadLink("This link is not valid. Check it was copied in full.") from exc


def offer_from_link(purpose: str, token: str) -> Offer:
    """The offer a link points at; BadLink if there is none."""
    offer_id = id_from_link(purpose, token, LINK_MAX_AGE)
    with context().db.sessions() as session:
        try:
            return get_offer(session, offer_id)
        except NotFound as exc:
            raise BadLink("This offer no longer exists.") from exc


def closed(reason: str, status: int) -> tuple[str, int]:
    return render_template("closed.html", reason=reason), status


@pages.route("/offers/<token>/<action>", methods=["GET", "POST"])
def answer_offer(token: str, action: str) -> tuple[str, int]:
    if action not in OFFER_ACTIONS:
        return closed("This link is not valid.", 404)
    offer = offer_from_link(OFFER_LINK, token)
    if request.method == "GET":
        reason = offer_closed_reason(offer)
        if reason:
            return closed(reason, 409)
        heading, button = OFFER_ACTIONS[action]
        return render_template("offer.html", offer=offer, heading=heading, button=button), 200
    hub = context()
    try:
        with hub.db.transaction() as session:
            if action == "accept":
                answered = accept_offer(session, hub.bus, links(), offer.id)
            else:
                answered = decline_offer(session, hub.bus, links(), offer.id, policy=policy())
    except Conflict as exc:
        return closed(str(exc), 409)
    hub.bus.relay()
    return render_template("answered.html", offer=answered, accepted=action == "accept"), 200


TASK_ACTIONS = ("complete", "release")


@pages.route("/tasks/<token>/<action>", methods=["GET", "POST"])
def task(token: str, action: str) -> tuple[str, int]:
    """After accepting: say the task is done, or give it back (with a reason) so we ask someone else."""
    if action not in TASK_ACTIONS:
        return closed("This link is not valid.", 404)
    offer = offer_from_link(TASK_LINK, token)
    if offer.status != "accepted":
        return closed(offer_closed_reason(offer) or "This task is closed.", 409)
    if request.method == "GET":
        return render_template(f"{action}.html", offer=offer, error=None), 200
    hub = context()
    reason = request.form.get("reason", "").strip()
    if action == "release" and not reason:
        return render_template("release.html", offer=offer, error="Tell us why, so a coordinator knows"), 422
    try:
        with hub.db.transaction() as session:
            if action == "complete":
                complete_task(session, hub.bus, offer.id)
            else:
                release_task(session, hub.bus, links(), offer.id, reason[:500], policy=policy())
    except Conflict as exc:
        return closed(str(exc), 409)
    hub.bus.relay()
    done = {
        "complete": "Thank you: the task is marked as done.",
        "release": "Thank you for telling us. We will ask someone else.",
    }
    return render_template("closed.html", reason=done[action]), 200


# -- volunteers signing themselves up -----------------------------------------------------------

SKILL_LABELS = {
    "shopping": "Shopping",
    "prescription_collection": "Collecting prescriptions",
    "befriending": "Befriending (calls or visits; needs a DBS check)",
    "dog_walking": "Dog walking",
    "driving": "Driving people to appointments",
}
SIGN_UP_FIELDS = ("name", "email", "phone", "postcode", "skills", "consent")
VERIFY_MAX_AGE = 7 * 24 * 3600


def sign_up_form(values: dict[str, Any], errors: dict[str, str], status: int) -> tuple[str, int]:
    page = render_template(
        "sign_up.html", values=values, errors=errors, skills=SKILL_LABELS, consent=SIGN_UP_CONSENT
    )
    return page, status


@pages.route("/volunteers/sign-up", methods=["GET", "POST"])
def volunteer_sign_up() -> tuple[str, int]:
    """The public page where people offer to volunteer; a coordinator approves them later."""
    if request.method == "GET":
        return sign_up_form({}, {}, 200)
    form = request.form
    body = {
        "name": form.get("name", "").strip(),
        "email": form.get("email", "").strip(),
        "phone": form.get("phone", "").strip() or None,
        "postcode": form.get("postcode", ""),
        "skills": form.getlist("skills"),
        "consent": form.get("consent") == "yes",
    }
    try:
        data = SignUpIn().load(body)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        errors = {field: first(messages[field]) for field in SIGN_UP_FIELDS if field in messages}
        values = form.to_dict() | {"skills": form.getlist("skills")}
        return sign_up_form(values, errors, 422)
    hub = context()
    with hub.db.transaction() as session:
        sign_up(session, hub.bus, links(), data)
    hub.bus.relay()
    return render_template("signed_up.html", email=data["email"]), 200


def first(messages: Any) -> str:
    """marshmallow's first message for a field (lists may nest per item)."""
    while isinstance(messages, (list, dict)):
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)


@pages.route("/volunteers/verify/<token>", methods=["GET", "POST"])
def volunteer_verify(token: str) -> tuple[str, int]:
    expired = "This link has expired. Sign up again to get a new one."
    volunteer_id = id_from_link(VOLUNTEER_LINK, token, VERIFY_MAX_AGE, expired=expired)
    if request.method == "GET":  # mail scanners open links: only the button verifies
        return render_template("verify.html"), 200
    try:
        with context().db.transaction() as session:
            verify_email(session, volunteer_id)
    except NotFound:
        return closed("We no longer have this sign-up.", 404)
    return closed("Thank you: your email is confirmed. A coordinator will be in touch.", 200)


# -- a volunteer's own availability, through the signed link in every offer ---------------------

AVAILABILITY_MAX_AGE = 180 * 24 * 3600


@pages.route("/volunteers/availability/<token>", methods=["GET", "POST"])
def own_availability(token: str) -> tuple[str, int]:
    expired = "This link has expired: use the one in your latest offer."
    volunteer_id = id_from_link(AVAILABILITY_LINK, token, AVAILABILITY_MAX_AGE, expired=expired)
    hub = context()
    with hub.db.sessions() as session:
        try:
            volunteer = get_volunteer(session, volunteer_id)
        except NotFound:
            return closed("We no longer have your details.", 404)
    if request.method == "GET":
        return render_template("availability.html", volunteer=volunteer, error=None), 200
    try:
        max_tasks = int(request.form.get("max_active_tasks", ""))
        if not 1 <= max_tasks <= 20:
            raise ValueError
    except ValueError:
        return render_template(
            "availability.html", volunteer=volunteer, error="Choose a number from 1 to 20"
        ), 422
    with hub.db.transaction() as session:
        change_own_availability(
            session,
            volunteer_id,
            on_duty=request.form.get("on_duty") == "yes",
            paused=request.form.get("paused") == "yes",
            max_active_tasks=max_tasks,
        )
    return closed("Thank you: your availability is saved.", 200)
