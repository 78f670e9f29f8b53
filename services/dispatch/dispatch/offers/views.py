"""The pages a volunteer opens from the links in an offer: answer it, then say the task is done
or give it back. A link only opens a page; the action is the POST from it, because mail
scanners follow links and must never accept an offer for anyone."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from dispatch.app import dispatch
from dispatch.flows import decline_offer, release_task
from dispatch.models import Offer
from dispatch.offers.enums import OfferStatus
from dispatch.offers.service import accept_offer, closed_reason, complete_task, get_offer
from dispatch.pages import LINK_MAX_AGE, closed, id_from_link
from dispatch.urls import OFFER_LINK, TASK_LINK

pages = Blueprint("offer_pages", __name__)

OFFER_ACTIONS = {
    "accept": ("Can you help?", "Yes, I can help"),
    "decline": ("Decline this request?", "No, I can't help this time"),
}
TASK_ACTIONS = {
    "complete": "Thank you: the task is marked as done.",
    "release": "Thank you for telling us. We will ask someone else.",
}


def offer_from_link(purpose: str, token: str) -> Offer:
    """The offer a link points at; NotFound if there is none."""
    offer_id = id_from_link(purpose, token, LINK_MAX_AGE)
    with dispatch().uow.db.sessions() as session:
        return get_offer(session, offer_id)


@pages.route("/offers/<token>/<action>", methods=["GET", "POST"])
def answer_offer(token: str, action: str) -> tuple[str, int]:
    if action not in OFFER_ACTIONS:
        return closed("This link is not valid.", 404)
    offer = offer_from_link(OFFER_LINK, token)
    if request.method == "GET":
        reason = closed_reason(offer)
        if reason:
            return closed(reason, 409)
        heading, button = OFFER_ACTIONS[action]
        return render_template("offer.html", offer=offer, heading=heading, button=button), 200
    answer = accept_offer if action == "accept" else decline_offer
    answered = dispatch().run(answer, offer.id)
    return render_template("answered.html", offer=answered, accepted=action == "accept"), 200


@pages.route("/tasks/<token>/<action>", methods=["GET", "POST"])
def task(token: str, action: str) -> tuple[str, int]:
    """After accepting: say the task is done, or give it back (with a reason) so we ask someone else."""
    if action not in TASK_ACTIONS:
        return closed("This link is not valid.", 404)
    offer = offer_from_link(TASK_LINK, token)
    if offer.status != OfferStatus.accepted:
        return closed(closed_reason(offer) or "This task is closed.", 409)
    if request.method == "GET":
        return render_template(f"{action}.html", offer=offer, error=None), 200
    reason = request.form.get("reason", "").strip()
    if action == "release" and not reason:
        return render_template("release.html", offer=offer, error="Tell us why, so a coordinator knows"), 422
    if action == "complete":
        dispatch().run(complete_task, offer.id)
    else:
        dispatch().run(release_task, offer.id, reason[:500])
    return closed(TASK_ACTIONS[action], 200)
