"""The volunteer registry, for the hub's staff: the API, and the coordinators' pages (every
volunteer by status, a volunteer's profile, and the status actions that apply to them)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy import func, select

from dispatch.app import dispatch
from dispatch.models import Volunteer
from dispatch.pages import closed
from dispatch.volunteers.enums import STATUS_ACTIONS, StatusAction, VolunteerStatus
from dispatch.volunteers.schemas import WEEKDAYS, VolunteerChanges, VolunteerIn, VolunteerOut, clock
from dispatch.volunteers.service import change_status, change_volunteer, get_volunteer, register_volunteer
from hub_shared.web import IDEMPOTENCY_PARAMETER, idempotency_claim, replayed

api = ApiBlueprint("volunteers", __name__, url_prefix="/api/v1/volunteers", description="Volunteers")
pages = Blueprint("volunteer_pages", __name__)

STATUS_BUTTONS = {
    StatusAction.approve: "Approve",
    StatusAction.activate: "Make active",
    StatusAction.pause: "Pause",
    StatusAction.resume: "Resume",
    StatusAction.leave: "Mark as left",
}


@api.route("")
class Volunteers(MethodView):
    @api.arguments(VolunteerIn)
    @api.response(201, VolunteerOut)
    @api.doc(parameters=[IDEMPOTENCY_PARAMETER])
    def post(self, data: dict[str, Any]) -> tuple[Volunteer, int, dict[str, str]]:
        """Register a volunteer, approved and active (send an Idempotency-Key: see its description)."""
        registered, before = dispatch().once.run(
            idempotency_claim(data), register_volunteer, get_volunteer, data
        )
        return registered, 201, replayed(before)

    @api.response(200, VolunteerOut(many=True))
    def get(self) -> list[Volunteer]:
        """Every volunteer, newest first."""
        with dispatch().uow.db.sessions() as session:
            return list(session.scalars(select(Volunteer).order_by(Volunteer.created_at.desc())))


@api.route("/<volunteer_id>")
class VolunteerById(MethodView):
    @api.response(200, VolunteerOut)
    def get(self, volunteer_id: str) -> Volunteer:
        """One volunteer."""
        with dispatch().uow.db.sessions() as session:
            return get_volunteer(session, volunteer_id)

    @api.arguments(VolunteerChanges)
    @api.response(200, VolunteerOut)
    def patch(self, changes: dict[str, Any], volunteer_id: str) -> Volunteer:
        """Change a volunteer: pause them, take them off duty, renew their DBS check..."""
        return dispatch().run(change_volunteer, volunteer_id, changes)


@pages.get("/volunteers")
def volunteer_list() -> tuple[str, int]:
    """Every volunteer, or those with one status (?status=verified: waiting for approval)."""
    wanted = request.args.get("status")
    if wanted is not None and wanted not in list(VolunteerStatus):
        return closed("There is no such status.", 404)
    query = select(Volunteer).order_by(Volunteer.created_at.desc()).limit(500)
    if wanted:
        query = query.where(Volunteer.status == wanted)
    with dispatch().uow.db.sessions() as session:
        volunteers = list(session.scalars(query))
        counts = dict(
            session.execute(select(Volunteer.status, func.count()).group_by(Volunteer.status)).all()
        )
    page = render_template(
        "volunteers.html", volunteers=volunteers, counts=counts, statuses=list(VolunteerStatus), wanted=wanted
    )
    return page, 200


@pages.get("/volunteers/<volunteer_id>")
def volunteer_profile(volunteer_id: str) -> tuple[str, int]:
    with dispatch().uow.db.sessions() as session:
        volunteer = get_volunteer(session, volunteer_id)
    actions = {
        action: label
        for action, label in STATUS_BUTTONS.items()
        if volunteer.status in STATUS_ACTIONS[action][0]
    }
    page = render_template("volunteer.html", volunteer=volunteer, actions=actions, days=WEEKDAYS, clock=clock)
    return page, 200


@pages.post("/volunteers/<volunteer_id>/status")
def volunteer_status(volunteer_id: str) -> Any:
    action = request.form.get("action", "")
    if action not in list(StatusAction):
        return closed("Choose one of the actions on the volunteer's page.", 422)
    dispatch().run(change_status, volunteer_id, StatusAction(action))
    return redirect(url_for("volunteer_pages.volunteer_profile", volunteer_id=volunteer_id), code=303)
