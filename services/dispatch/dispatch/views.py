"""dispatch's routes: the volunteer registry API, the referrals API for partners' systems, and
the pages a volunteer or partner opens from a link.

Links in messages only open a page; the action happens on the POST from that page, because
mail scanners follow links and must never accept an offer for anyone.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import ValidationError
from sqlalchemy import func, select

from dispatch.app import links, policy
from dispatch.matching import rank_candidates
from dispatch.models import Job, Offer, PartnerDay, Referral, Volunteer
from dispatch.referrals import ACTIVE_STATUSES as REFERRAL_ACTIVE
from dispatch.referrals import closed_reason as referral_closed_reason
from dispatch.referrals import london_day
from dispatch.schemas import (
    WEEKDAYS,
    ReferralOut,
    RejectionIn,
    SignUpIn,
    SlotIn,
    VolunteerChanges,
    VolunteerIn,
    VolunteerOut,
    clock,
)
from dispatch.service import (
    ACTIVE_OFFER_STATUSES,
    AVAILABILITY_LINK,
    LINK_MAX_AGE,
    OFFER_LINK,
    SIGN_UP_CONSENT,
    STATUS_ACTIONS,
    TASK_LINK,
    VOLUNTEER_LINK,
    VOLUNTEER_STATUSES,
    accept_offer,
    accept_referral,
    change_own_availability,
    change_status,
    change_volunteer,
    complete_referral,
    complete_task,
    decline_offer,
    get_offer,
    get_volunteer,
    now_utc,
    offer_closed_reason,
    partner_referral,
    register_volunteer,
    reject_referral,
    release_task,
    send_to,
    sign_up,
    verify_email,
)
from dispatch.urls import referral_purpose
from hub_shared.access import current_caller
from hub_shared.app import context
from hub_shared.auth import Caller
from hub_shared.errors import NotFound
from hub_shared.tokens import ExpiredLink, InvalidLink

api = ApiBlueprint("volunteers", __name__, url_prefix="/api/v1/volunteers", description="Volunteers")
referrals_api = ApiBlueprint(
    "referrals", __name__, url_prefix="/api/v1/referrals", description="Referrals to partner groups"
)
pages = Blueprint("pages", __name__)


@api.route("")
class Volunteers(MethodView):
    @api.arguments(VolunteerIn)
    @api.response(201, VolunteerOut)
    def post(self, data: dict[str, Any]) -> Volunteer:
        """Register a volunteer (approved and active)."""
        return context().uow.run(register_volunteer, data)

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
            return get_volunteer(session, volunteer_id)

    @api.arguments(VolunteerChanges)
    @api.response(200, VolunteerOut)
    def patch(self, changes: dict[str, Any], volunteer_id: str) -> Volunteer:
        """Change a volunteer: pause them, take them off duty, renew their DBS check..."""
        hub = context()
        return hub.uow.run(change_volunteer, hub.bus, links(), volunteer_id, changes, policy=policy())


# -- referrals, for partners' own systems (and coordinators) ----------------------------------


def referral_caller() -> Caller:
    """The token's holder: access.py has let only partners and the hub's staff this far."""
    caller = current_caller()
    assert caller is not None
    return caller


def own_referral(session: Any, caller: Caller, referral_id: str) -> Referral:
    """The referral if the caller may see it: a partner only its own (another's is a 404)."""
    return partner_referral(session, referral_id, caller.partner if caller.role == "partner" else None)


@referrals_api.route("")
class Referrals(MethodView):
    @referrals_api.response(200, ReferralOut(many=True))
    def get(self) -> list[Referral]:
        """Referrals waiting for an answer or held (a partner sees only its own), newest first."""
        caller = referral_caller()
        query = select(Referral).where(Referral.status.in_(REFERRAL_ACTIVE))
        if caller.role == "partner":
            query = query.where(Referral.partner_id == caller.partner)
        with context().db.sessions() as session:
            return list(session.scalars(query.order_by(Referral.created_at.desc()).limit(500)))


@referrals_api.route("/<referral_id>")
class ReferralById(MethodView):
    @referrals_api.response(200, ReferralOut)
    def get(self, referral_id: str) -> Referral:
        """One referral; the requester's details while the partner holds it."""
        caller = referral_caller()
        with context().db.sessions() as session:
            return own_referral(session, caller, referral_id)


def answer_by_api(referral_id: str, act: Any) -> Referral:
    caller = referral_caller()
    hub = context()
    with hub.uow.begin() as session:
        answered = act(session, own_referral(session, caller, referral_id))
    with hub.db.sessions() as session:
        return own_referral(session, caller, answered.id)


@referrals_api.route("/<referral_id>/accept")
class AcceptReferral(MethodView):
    @referrals_api.response(200, ReferralOut)
    def post(self, referral_id: str) -> Referral:
        """Take the referral: the answer holds the requester's details."""
        return answer_by_api(referral_id, lambda s, r: act_on_referral(s, r, "accept"))


@referrals_api.route("/<referral_id>/reject")
class RejectReferral(MethodView):
    @referrals_api.arguments(RejectionIn)
    @referrals_api.response(200, ReferralOut)
    def post(self, body: dict[str, Any], referral_id: str) -> Referral:
        """Say no, with a reason: the request goes on to its next stop."""
        return answer_by_api(referral_id, lambda s, r: act_on_referral(s, r, "reject", body["reason"]))


@referrals_api.route("/<referral_id>/complete")
class CompleteReferral(MethodView):
    @referrals_api.response(200, ReferralOut)
    def post(self, referral_id: str) -> Referral:
        """Say the help was given."""
        return answer_by_api(referral_id, lambda s, r: act_on_referral(s, r, "complete"))


# -- the pages behind the links in messages ---------------------------------------------------

OFFER_ACTIONS = {
    "accept": ("Can you help?", "Yes, I can help"),
    "decline": ("Decline this request?", "No, I can't help this time"),
}


def id_from_link(purpose: str, token: str, max_age: int, *, expired: str = "This link has expired.") -> str:
    """The id a signed link carries; NotFound (a 404 page saying why) if it is altered or too old."""
    try:
        return context().signer.verify(purpose, token, max_age_seconds=max_age)
    except ExpiredLink as exc:
        raise NotFound(expired) from exc
    except InvalidLink as exc:
        raise NotFound("This link is not valid. Check it was copied in full.") from exc


def offer_from_link(purpose: str, token: str) -> Offer:
    """The offer a link points at; NotFound if there is none."""
    offer_id = id_from_link(purpose, token, LINK_MAX_AGE)
    with context().db.sessions() as session:
        return get_offer(session, offer_id)


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
    if action == "accept":
        answered = hub.uow.run(accept_offer, hub.bus, links(), offer.id)
    else:
        answered = hub.uow.run(decline_offer, hub.bus, links(), offer.id, policy=policy())
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
    if action == "complete":
        hub.uow.run(complete_task, hub.bus, offer.id)
    else:
        hub.uow.run(release_task, hub.bus, links(), offer.id, reason[:500], policy=policy())
    done = {
        "complete": "Thank you: the task is marked as done.",
        "release": "Thank you for telling us. We will ask someone else.",
    }
    return render_template("closed.html", reason=done[action]), 200


REFERRAL_ACTIONS = {
    "accept": ("Can you take this referral?", "Yes, we can take it"),
    "reject": ("Turn this referral down?", "No, we can't take it"),
    "complete": ("Is this referral done?", "Yes, it is done"),
}


def act_on_referral(session: Any, referral: Referral, action: str, reason: str = "") -> Referral:
    """A partner's answer, from the links in its email, its own page or its API."""
    bus = context().bus
    if action == "accept":
        return accept_referral(session, bus, links(), referral, policy=policy())
    if action == "reject":
        return reject_referral(session, bus, links(), referral, reason[:500], policy=policy())
    return complete_referral(session, bus, referral)


@pages.route("/referrals/<token>/<action>", methods=["GET", "POST"])
def answer_referral(token: str, action: str) -> tuple[str, int]:
    """A partner answers a referral from the links in its email; only the POST acts."""
    if action not in REFERRAL_ACTIONS:
        return closed("This link is not valid.", 404)
    referral_id = id_from_link(referral_purpose(action), token, LINK_MAX_AGE)
    hub = context()
    with hub.db.sessions() as session:
        referral = partner_referral(session, referral_id)
    heading, button = REFERRAL_ACTIONS[action]
    why_not = referral_closed_reason(referral, now_utc(), action)
    if why_not:
        return closed(why_not, 409)
    page = {"referral": referral, "action": action, "heading": heading, "button": button, "error": None}
    if request.method == "GET":
        return render_template("referral.html", **page), 200
    reason = request.form.get("reason", "").strip()
    if action == "reject" and not reason:
        return render_template(
            "referral.html", **page | {"error": "Tell us why, so we know where to send it"}
        ), 422
    with hub.uow.begin() as session:
        act_on_referral(session, partner_referral(session, referral_id), action, reason)
    if action == "accept":
        with hub.db.sessions() as session:
            referral = partner_referral(session, referral_id)
            complete_url = links().referral(referral.id, "complete")
            return render_template(
                "referral_accepted.html", referral=referral, complete_url=complete_url
            ), 200
    done = {
        "reject": "Thank you for telling us. We will find help elsewhere.",
        "complete": "Thank you: the referral is marked as done.",
    }
    return closed(done[action], 200)


# -- coordinators' pages: the volunteer registry and the partner groups --------------------------

STATUS_BUTTONS = {
    "approve": "Approve",
    "activate": "Make active",
    "pause": "Pause",
    "resume": "Resume",
    "leave": "Mark as left",
}


@pages.get("/volunteers")
def volunteer_list() -> tuple[str, int]:
    """Every volunteer, or those with one status (?status=verified: waiting for approval)."""
    wanted = request.args.get("status")
    if wanted is not None and wanted not in VOLUNTEER_STATUSES:
        return closed("There is no such status.", 404)
    query = select(Volunteer).order_by(Volunteer.created_at.desc()).limit(500)
    if wanted:
        query = query.where(Volunteer.status == wanted)
    with context().db.sessions() as session:
        volunteers = list(session.scalars(query))
        counts = dict(
            session.execute(select(Volunteer.status, func.count()).group_by(Volunteer.status)).all()
        )
    page = render_template(
        "volunteers.html", volunteers=volunteers, counts=counts, statuses=VOLUNTEER_STATUSES, wanted=wanted
    )
    return page, 200


@pages.get("/volunteers/<volunteer_id>")
def volunteer_profile(volunteer_id: str) -> tuple[str, int]:
    with context().db.sessions() as session:
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
    if action not in STATUS_ACTIONS:
        return closed("Choose one of the actions on the volunteer's page.", 422)
    hub = context()
    hub.uow.run(change_status, hub.bus, links(), volunteer_id, action, policy=policy())
    return redirect(url_for("pages.volunteer_profile", volunteer_id=volunteer_id), code=303)


@pages.get("/partners")
def partner_list() -> tuple[str, int]:
    """The partner groups in the routing file, with today's referrals against their capacity."""
    routing = policy().routing
    today = london_day(now_utc())
    with context().db.sessions() as session:
        used = dict(
            session.execute(
                select(PartnerDay.partner_id, PartnerDay.referrals).where(PartnerDay.day == today)
            ).all()
        )
        waiting = dict(
            session.execute(
                select(Referral.partner_id, func.count())
                .where(Referral.status.in_(REFERRAL_ACTIVE))
                .group_by(Referral.partner_id)
            ).all()
        )
    page = render_template(
        "partners.html", partners=routing.partners.values(), used=used, waiting=waiting, routing=routing
    )
    return page, 200


@pages.route("/jobs/<request_id>", methods=["GET", "POST"])
def send_request(request_id: str) -> Any:
    """Reassign a request (from its page in intake): offer it to a volunteer the rules allow, or
    refer it to a partner group; whoever had it or was asked is stood down and told."""
    hub = context()
    if request.method == "POST":
        chosen = {
            "volunteer_id": request.form.get("volunteer_id"),
            "partner_id": request.form.get("partner_id"),
        }
        hub.uow.run(send_to, hub.bus, links(), request_id, **chosen, policy=policy())
        return redirect(f"{hub.settings.intake_url}/requests/{request_id}", code=303)
    with hub.db.sessions() as session:
        job = session.get(Job, request_id)
        if job is None or job.status == "ended":
            return closed("dispatch has no open request with that id.", 404)
        candidates = rank_candidates(session, job, now_utc(), routing=policy().routing)[:10]
        holding = list(
            session.scalars(
                select(Offer).where(Offer.request_id == request_id, Offer.status.in_(ACTIVE_OFFER_STATUSES))
            )
        )
        referred = list(
            session.scalars(
                select(Referral).where(
                    Referral.request_id == request_id, Referral.status.in_(REFERRAL_ACTIVE)
                )
            )
        )
        names = {
            v.id: v.name
            for v in session.scalars(
                select(Volunteer).where(Volunteer.id.in_([o.volunteer_id for o in holding]))
            )
        }
        page = render_template(
            "job.html",
            job=job,
            candidates=candidates,
            holding=holding,
            names=names,
            referred=referred,
            partners=policy().routing.partners,
            intake_url=hub.settings.intake_url,
        )
    return page, 200


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
    with context().db.sessions() as session:
        mine = select(Referral).where(Referral.partner_id == partner_id)
        open_ = list(
            session.scalars(mine.where(Referral.status.in_(REFERRAL_ACTIVE)).order_by(Referral.expires_at))
        )
        done = list(
            session.scalars(
                mine.where(Referral.status.not_in(REFERRAL_ACTIVE))
                .order_by(Referral.created_at.desc())
                .limit(20)
            )
        )
        shown = list(zip(open_ + done, ReferralOut(many=True).dump(open_ + done), strict=True))
    partner = policy().routing.partners.get(partner_id)
    page = render_template(
        "partner_queue.html",
        partner_name=partner.name if partner else partner_id,
        referrals=shown,
    )
    return page, 200


@pages.post("/partner/referrals/<referral_id>/<action>")
def partner_answer(referral_id: str, action: str) -> Any:
    """A partner answers from its page: accept, reject (with a reason) or complete its own."""
    if action not in REFERRAL_ACTIONS:
        return closed("There is no such answer.", 404)
    partner_id = own_partner()
    reason = request.form.get("reason", "").strip()
    if action == "reject" and not reason:
        return closed("Tell us why you cannot take it, so we know where to send it.", 422)
    with context().uow.begin() as session:
        act_on_referral(session, partner_referral(session, referral_id, partner_id), action, reason)
    return redirect(url_for("pages.partner_queue"), code=303)


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
    hub.uow.run(sign_up, hub.bus, links(), data)
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
    context().uow.run(verify_email, volunteer_id)
    return closed("Thank you: your email is confirmed. A coordinator will be in touch.", 200)


# -- a volunteer's own availability, through the signed link in every offer ---------------------

AVAILABILITY_MAX_AGE = 180 * 24 * 3600


def own_volunteer(token: str) -> Volunteer:
    """The volunteer whose availability link this is; NotFound if it is not one, or they are gone."""
    expired = "This link has expired: use the one in your latest offer."
    volunteer_id = id_from_link(AVAILABILITY_LINK, token, AVAILABILITY_MAX_AGE, expired=expired)
    with context().db.sessions() as session:
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


@pages.route("/volunteers/availability/<token>", methods=["GET", "POST"])
def own_availability(token: str) -> tuple[str, int]:
    """A volunteer's own page, from the link in every offer: on duty or not, weekly times, how
    many at once, a pause, or stopping altogether."""
    volunteer = own_volunteer(token)
    if volunteer.status == "left":
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
    hub = context()
    hub.uow.run(
        change_own_availability,
        hub.bus,
        links(),
        volunteer.id,
        on_duty=request.form.get("on_duty") == "yes",
        paused=request.form.get("paused") == "yes",
        max_active_tasks=max_tasks,
        slots=slots,
        policy=policy(),
    )
    return closed("Thank you: your availability is saved.", 200)


@pages.route("/volunteers/availability/<token>/stop", methods=["GET", "POST"])
def stop_volunteering(token: str) -> tuple[str, int]:
    """Stop volunteering: asks first; open offers are withdrawn and accepted tasks go back."""
    volunteer = own_volunteer(token)
    if volunteer.status == "left":
        return closed("You have stopped volunteering with us. Call the hub to start again.", 409)
    if request.method == "GET":
        return render_template("stop.html", volunteer=volunteer), 200
    hub = context()
    hub.uow.run(change_status, hub.bus, links(), volunteer.id, "leave", policy=policy())
    return closed("Thank you for all you have done. You will get no more requests from us.", 200)
