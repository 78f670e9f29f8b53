"""Referrals, where partner groups answer them: the API for partners' own systems (and
coordinators), the pages behind the links in a referral's email, a partner's own page, and the
coordinators' list of partner groups. A partner only ever sees its own referrals."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from sqlalchemy import func, select

from dispatch.app import dispatch
from dispatch.deps import now_utc
from dispatch.flows import answer_referral
from dispatch.models import PartnerDay, Referral
from dispatch.pages import LINK_MAX_AGE, closed, id_from_link
from dispatch.referrals.enums import ACTIVE
from dispatch.referrals.schemas import ReferralOut, RejectionIn
from dispatch.referrals.service import closed_reason, get_referral, london_day
from dispatch.urls import referral_purpose
from hub_shared.access import current_caller
from hub_shared.auth import Caller

api = ApiBlueprint(
    "referrals", __name__, url_prefix="/api/v1/referrals", description="Referrals to partner groups"
)
pages = Blueprint("referral_pages", __name__)

ANSWERS = {
    "accept": ("Can you take this referral?", "Yes, we can take it"),
    "reject": ("Turn this referral down?", "No, we can't take it"),
    "complete": ("Is this referral done?", "Yes, it is done"),
}
THANKS = {
    "reject": "Thank you for telling us. We will find help elsewhere.",
    "complete": "Thank you: the referral is marked as done.",
}


# -- the API, for partners' own systems (and coordinators) ---------------------------------------


def api_caller() -> Caller:
    """The token's holder: access.py has let only partners and the hub's staff this far."""
    caller = current_caller()
    assert caller is not None
    return caller


def partner_of(caller: Caller) -> str | None:
    """Whose referrals the caller may see: a partner its own; the hub's staff all (None)."""
    return caller.partner if caller.role == "partner" else None


@api.route("")
class Referrals(MethodView):
    @api.response(200, ReferralOut(many=True))
    def get(self) -> list[Referral]:
        """Referrals waiting for an answer or held (a partner sees only its own), newest first."""
        caller = api_caller()
        query = select(Referral).where(Referral.status.in_(ACTIVE))
        if caller.role == "partner":
            query = query.where(Referral.partner_id == caller.partner)
        with dispatch().uow.db.sessions() as session:
            return list(session.scalars(query.order_by(Referral.created_at.desc()).limit(500)))


@api.route("/<referral_id>")
class ReferralById(MethodView):
    @api.response(200, ReferralOut)
    def get(self, referral_id: str) -> Referral:
        """One referral; the requester's details while the partner holds it."""
        with dispatch().uow.db.sessions() as session:
            return get_referral(session, referral_id, partner_of(api_caller()))


def answer_by_api(referral_id: str, action: str, reason: str = "") -> Referral:
    partner_id = partner_of(api_caller())
    dispatch().run(answer_referral, referral_id, action, reason=reason, partner_id=partner_id)
    with dispatch().uow.db.sessions() as session:
        return get_referral(session, referral_id, partner_id)


@api.route("/<referral_id>/accept")
class AcceptReferral(MethodView):
    @api.response(200, ReferralOut)
    def post(self, referral_id: str) -> Referral:
        """Take the referral: the answer holds the requester's details."""
        return answer_by_api(referral_id, "accept")


@api.route("/<referral_id>/reject")
class RejectReferral(MethodView):
    @api.arguments(RejectionIn)
    @api.response(200, ReferralOut)
    def post(self, body: dict[str, Any], referral_id: str) -> Referral:
        """Say no, with a reason: the request goes on to its next stop."""
        return answer_by_api(referral_id, "reject", body["reason"])


@api.route("/<referral_id>/complete")
class CompleteReferral(MethodView):
    @api.response(200, ReferralOut)
    def post(self, referral_id: str) -> Referral:
        """Say the help was given."""
        return answer_by_api(referral_id, "complete")


# -- the pages behind the links in a referral's email ---------------------------------------------


@pages.route("/referrals/<token>/<action>", methods=["GET", "POST"])
def answer_by_link(token: str, action: str) -> tuple[str, int]:
    """A partner answers a referral from the links in its email; only the POST acts."""
    if action not in ANSWERS:
        return closed("This link is not valid.", 404)
    referral_id = id_from_link(referral_purpose(action), token, LINK_MAX_AGE)
    with dispatch().uow.db.sessions() as session:
        referral = get_referral(session, referral_id)
    why_not = closed_reason(referral, now_utc(), action)
    if why_not:
        return closed(why_not, 409)
    heading, button = ANSWERS[action]
    page = {"referral": referral, "action": action, "heading": heading, "button": button, "error": None}
    if request.method == "GET":
        return render_template("referral.html", **page), 200
    reason = request.form.get("reason", "").strip()
    if action == "reject" and not reason:
        page["error"] = "Tell us why, so we know where to send it"
        return render_template("referral.html", **page), 422
    answered = dispatch().run(answer_referral, referral_id, action, reason=reason, partner_id=None)
    if action != "accept":
        return closed(THANKS[action], 200)
    with dispatch().uow.db.sessions() as session:
        referral = get_referral(session, answered.id)
        complete_url = dispatch().deps.links.referral(referral.id, "complete")
        return render_template("referral_accepted.html", referral=referral, complete_url=complete_url), 200


# -- a partner group's own page (its workers sign in with the partner role) --------------------


def own_partner() -> str:
    caller = current_caller()
    assert caller is not None and caller.partner, "access.py lets only partners here"
    return caller.partner


@pages.get("/partner")
def partner_queue() -> tuple[str, int]:
    """A partner's own referrals: waiting for an answer, held (with the requester's details),
    and the last ones answered. Never another partner's."""
    partner_id = own_partner()
    with dispatch().uow.db.sessions() as session:
        mine = select(Referral).where(Referral.partner_id == partner_id)
        open_ = list(session.scalars(mine.where(Referral.status.in_(ACTIVE)).order_by(Referral.expires_at)))
        done = list(
            session.scalars(
                mine.where(Referral.status.not_in(ACTIVE)).order_by(Referral.created_at.desc()).limit(20)
            )
        )
        shown = list(zip(open_ + done, ReferralOut(many=True).dump(open_ + done), strict=True))
    partner = dispatch().deps.policy.routing.partners.get(partner_id)
    page = render_template(
        "partner_queue.html", partner_name=partner.name if partner else partner_id, referrals=shown
    )
    return page, 200


@pages.post("/partner/referrals/<referral_id>/<action>")
def partner_answer(referral_id: str, action: str) -> Any:
    """A partner answers from its page: accept, reject (with a reason) or complete its own."""
    if action not in ANSWERS:
        return closed("There is no such answer.", 404)
    partner_id = own_partner()
    reason = request.form.get("reason", "").strip()
    if action == "reject" and not reason:
        return closed("Tell us why you cannot take it, so we know where to send it.", 422)
    dispatch().run(answer_referral, referral_id, action, reason=reason, partner_id=partner_id)
    return redirect(url_for("referral_pages.partner_queue"), code=303)


# -- the coordinators' list of partner groups -------------------------------------------------------


@pages.get("/partners")
def partner_list() -> tuple[str, int]:
    """The partner groups in the routing file, with today's referrals against their capacity."""
    routing = dispatch().deps.policy.routing
    today = london_day(now_utc())
    with dispatch().uow.db.sessions() as session:
        used = dict(
            session.execute(
                select(PartnerDay.partner_id, PartnerDay.referrals).where(PartnerDay.day == today)
            ).all()
        )
        waiting = dict(
            session.execute(
                select(Referral.partner_id, func.count())
                .where(Referral.status.in_(ACTIVE))
                .group_by(Referral.partner_id)
            ).all()
        )
    page = render_template(
        "partners.html", partners=routing.partners.values(), used=used, waiting=waiting, routing=routing
    )
    return page, 200
