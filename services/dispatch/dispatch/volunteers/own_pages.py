"""The pages volunteers open themselves: signing up (a coordinator approves them later), the
link that proves their email, and their own availability from the link in every offer
(weekly times, how many at once, a pause, or stopping altogether)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from marshmallow import ValidationError

from dispatch.app import dispatch
from dispatch.models import Volunteer
from dispatch.pages import closed, first, id_from_link
from dispatch.urls import AVAILABILITY_LINK, VOLUNTEER_LINK
from dispatch.volunteers.enums import StatusAction, VolunteerStatus
from dispatch.volunteers.schemas import WEEKDAYS, SignUpIn, SlotIn, clock
from dispatch.volunteers.service import (
    SIGN_UP_CONSENT,
    change_own_availability,
    change_status,
    sign_up,
    verify_email,
)
from hub_shared.errors import NotFound

own = Blueprint("volunteers_own", __name__)

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


@own.route("/volunteers/sign-up", methods=["GET", "POST"])
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
    dispatch().run(sign_up, data)
    return render_template("signed_up.html", email=data["email"]), 200


@own.route("/volunteers/verify/<token>", methods=["GET", "POST"])
def volunteer_verify(token: str) -> tuple[str, int]:
    expired = "This link has expired. Sign up again to get a new one."
    volunteer_id = id_from_link(VOLUNTEER_LINK, token, VERIFY_MAX_AGE, expired=expired)
    if request.method == "GET":  # mail scanners open links: only the button verifies
        return render_template("verify.html"), 200
    dispatch().uow.run(verify_email, volunteer_id)
    return closed("Thank you: your email is confirmed. A coordinator will be in touch.", 200)


# -- a volunteer's own availability, through the signed link in every offer ---------------------

AVAILABILITY_MAX_AGE = 180 * 24 * 3600


def own_volunteer(token: str) -> Volunteer:
    """The volunteer whose availability link this is; NotFound if it is not one, or they are gone."""
    expired = "This link has expired: use the one in your latest offer."
    volunteer_id = id_from_link(AVAILABILITY_LINK, token, AVAILABILITY_MAX_AGE, expired=expired)
    with dispatch().uow.db.sessions() as session:
        volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound("We no longer have your details.")
    return volunteer


def slots_by_day(volunteer: Volunteer) -> dict[str, tuple[str, str]] | None:
    """The volunteer's weekly slots as {day: (start, end)} for the form; None if a day has more
    than one (set through the hub), which the one-slot-a-day form cannot show without losing it."""
    days: dict[str, tuple[str, str]] = {}
    for slot in volunteer.slots:
        day = WEEKDAYS[slot.weekday]
        if day in days:
            return None
        days[day] = (clock(slot.start_minute), clock(slot.end_minute))
    return days


def read_slots(form: Any, errors: dict[str, str]) -> list[dict[str, int]]:
    """The form's one slot a day (both times blank: none that day), checked like the API's."""
    slots = []
    for day in WEEKDAYS:
        start, end = form.get(f"{day}-start", "").strip(), form.get(f"{day}-end", "").strip()
        if not start and not end:
            continue
        try:
            slots.append(SlotIn().load({"day": day, "start": start, "end": end}))
        except ValidationError as exc:
            errors[f"{day}-start"] = f"{day.capitalize()}: {first(exc.messages)}"
    return slots


def availability_page(
    volunteer: Volunteer, token: str, errors: dict[str, str], status: int
) -> tuple[str, int]:
    values = request.form if request.method == "POST" else None
    page = render_template(
        "availability.html",
        volunteer=volunteer,
        token=token,
        days=WEEKDAYS,
        slots=slots_by_day(volunteer),
        clock=clock,
        values=values,
        errors=errors,
    )
    return page, status


@own.route("/volunteers/availability/<token>", methods=["GET", "POST"])
def own_availability(token: str) -> tuple[str, int]:
    """A volunteer's own page, from the link in every offer: on duty or not, weekly times, how
    many at once, a pause, or stopping altogether."""
    volunteer = own_volunteer(token)
    if volunteer.status == VolunteerStatus.left:
        return closed("You have stopped volunteering with us. Call the hub to start again.", 409)
    if request.method == "GET":
        return availability_page(volunteer, token, {}, 200)
    errors: dict[str, str] = {}
    try:
        max_tasks = int(request.form.get("max_active_tasks", ""))
        if not 1 <= max_tasks <= 20:
            raise ValueError
    except ValueError:
        errors["max_active_tasks"] = "Choose a number from 1 to 20"
    editable = slots_by_day(volunteer) is not None
    slots = read_slots(request.form, errors) if editable else None
    if errors:
        return availability_page(volunteer, token, errors, 422)
    dispatch().run(
        change_own_availability,
        volunteer.id,
        on_duty=request.form.get("on_duty") == "yes",
        paused=request.form.get("pause") == "yes",
        max_active_tasks=max_tasks,
        slots=slots,
    )
    return closed("Thank you: your availability is saved.", 200)


@own.route("/volunteers/availability/<token>/stop", methods=["GET", "POST"])
def stop_volunteering(token: str) -> tuple[str, int]:
    """Stop volunteering: asks first; open offers are withdrawn and accepted tasks go back."""
    volunteer = own_volunteer(token)
    if volunteer.status == VolunteerStatus.left:
        return closed("You have stopped volunteering with us. Call the hub to start again.", 409)
    if request.method == "GET":
        return render_template("stop.html", volunteer=volunteer), 200
    dispatch().run(change_status, volunteer.id, StatusAction.leave)
    return closed("Thank you for all you have done. You will get no more requests from us.", 200)
