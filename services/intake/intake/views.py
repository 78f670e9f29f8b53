"""intake's routes: the requests API and the coordinator's call form. Thin: they validate,
call the service, and answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from hub_shared.access import current_caller, start_session
from hub_shared.app import context
from hub_shared.events import NEEDS, URGENCIES
from hub_shared.states import label
from hub_shared.tokens import REQUESTER_CHECK_LINK, InvalidLink
from hub_shared.web import show_conflict_with
from intake import dashboard, queue
from intake.models import HelpRequest, Person
from intake.people import PASSWORD_LINK, Refused, set_password, sign_in
from intake.requests.enums import AttentionReason, RequestStatus
from intake.schemas import (
    CONSENT_WORDING,
    RequestCreatedOut,
    RequestIn,
    RequestOut,
    RequestQuery,
    RequestSummaryOut,
    SearchIn,
)
from intake.service import (
    CLOSE_REASONS,
    add_call_to,
    add_note,
    edit_request,
    end,
    escalate,
    get_request,
    hold,
    log_call,
    merge,
    note_look,
    possible_duplicates,
    reopen,
    requester_answered,
    submit_request,
)

api = ApiBlueprint("requests", __name__, url_prefix="/api/v1/requests", description="Requests for help")
pages = Blueprint("pages", __name__)


def record(data: dict[str, Any]) -> HelpRequest:
    hub = context()
    return hub.uow.run(submit_request, hub.bus, data)


def load(request_id: str) -> HelpRequest:
    with context().db.sessions() as session:
        return get_request(session, request_id)


@api.route("")
class Requests(MethodView):
    @api.arguments(RequestQuery, location="query")
    @api.response(200, RequestSummaryOut(many=True))
    @api.paginate(page_size=50, max_page_size=200)
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> list[HelpRequest]:
        """Requests, newest first (or, with needs_attention, the most pressing first), a page at a
        time (`page`, `page_size`; the X-Pagination header tells the total)."""
        page, per_page = min(pagination_parameters.page, MAX_PAGE), pagination_parameters.page_size
        with context().db.sessions() as session:
            found, total = queue.find(session, queue.QueueFilter(**filters), page=page, per_page=per_page)
        pagination_parameters.item_count = total
        return found

    @api.arguments(RequestIn)
    @api.response(201, RequestCreatedOut)
    def post(self, data: dict[str, Any]) -> HelpRequest:
        """Record a request for help."""
        return record(data)


@api.route("/search")
class SearchRequests(MethodView):
    @api.arguments(SearchIn)
    @api.response(200, RequestSummaryOut(many=True))
    def post(self, data: dict[str, Any]) -> list[HelpRequest]:
        """Find requests by reference, phone number or part of a name (at most 50, newest first).
        A POST so that what is searched for never appears in a URL or a log."""
        with context().db.sessions() as session:
            found, _ = queue.find(session, queue.QueueFilter(search=data["query"]), per_page=50)
        return found


@api.route("/<request_id>")
class RequestById(MethodView):
    @api.response(200, RequestOut)
    def get(self, request_id: str) -> HelpRequest | Response:
        """A request, with its status and timeline. A council token gets its status only (the
        fields of a request in a list): no name, address, phone or free text."""
        help_request = load(request_id)
        caller = current_caller()
        if caller is not None and caller.role == "council":
            return jsonify(RequestSummaryOut().dump(help_request))
        return help_request


# -- the coordinator's call form -------------------------------------------------------------

NEED_LABELS = {
    "shopping": "Shopping",
    "prescription": "Prescription collection",
    "food_parcel": "Food parcel",
    "befriending": "Befriending (regular calls or visits)",
    "dog_walking": "Dog walking",
    "transport": "Transport (a lift)",
    "other": "Something else (a coordinator will look at it)",
}
assert set(NEED_LABELS) == set(NEEDS)

# The form's flat field names, and where each lives in the API's body.
FORM_FIELDS = {
    "name": ("requester", "name"),
    "phone": ("requester", "phone"),
    "email": ("requester", "email"),
    "postcode": ("requester", "postcode"),
    "address": ("requester", "address"),
    "consent": ("consent", "data_processing"),
    "caller_name": ("caller", "name"),
    "caller_relation": ("caller", "relation"),
    "caller_contact": ("caller", "contact"),
}
FIELD_ORDER = [  # as on the form: the errors' summary lists them in this order
    "name",
    "phone",
    "email",
    "postcode",
    "address",
    "caller_name",
    "caller_relation",
    "caller_contact",
    "need",
    "urgency",
    "details",
    "consent",
]


CALLER_FIELDS = ("caller_name", "caller_relation", "caller_contact")


def load_form() -> tuple[dict[str, Any], dict[str, str]]:
    """The call form's fields as a checked request (RequestIn), or its errors by field."""
    try:
        return RequestIn().load(form_to_body(request.form)), {}
    except ValidationError as exc:
        return {}, flatten_errors(exc.messages if isinstance(exc.messages, dict) else {})


def form_to_body(form: Any) -> dict[str, Any]:
    return {
        "requester": {
            "name": form.get("name", "").strip(),
            "phone": form.get("phone", "").strip() or None,
            "email": form.get("email", "").strip() or None,
            "postcode": form.get("postcode", ""),
            "address": form.get("address", "").strip(),
        },
        "need": form.get("need", ""),
        "urgency": form.get("urgency", "normal"),
        "details": form.get("details", "").strip(),
        "vulnerable": form.get("vulnerable") == "yes",
        "safeguarding": form.get("safeguarding") == "yes",
        "consent": {
            "data_processing": form.get("consent") == "yes",
            "same_volunteer": form.get("same_volunteer") == "yes",
            "updates": form.get("updates") == "yes",
            "wording": CONSENT_WORDING,
        },
        "caller": {
            "name": form.get("caller_name", "").strip(),
            "relation": form.get("caller_relation", "").strip(),
            "contact": form.get("caller_contact", "").strip() or None,
        }
        if form.get("on_behalf") == "yes" or any(form.get(f, "").strip() for f in CALLER_FIELDS)
        else None,
    }


def flatten_errors(messages: dict[str, Any]) -> dict[str, str]:
    """marshmallow's nested errors as {form field: first message}, in the form's order."""
    flat: dict[str, str] = {}
    for field, (group, key) in FORM_FIELDS.items():
        nested = messages.get(group)
        if isinstance(nested, dict) and key in nested:
            flat[field] = nested[key][0]
    for field in ("need", "urgency", "details"):
        if field in messages:
            flat[field] = messages[field][0]
    return {field: flat[field] for field in FIELD_ORDER if field in flat}


def render_form(
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    duplicates: list[HelpRequest] | None = None,
    **editing: str,
) -> tuple[str, int]:
    page = render_template(
        "request_form.html",
        **editing,
        values=values,
        errors=errors,
        needs=NEED_LABELS,
        urgencies=URGENCIES,
        consent_wording=CONSENT_WORDING,
        duplicates=duplicates or [],
    )
    return page, status


@pages.get("/")
def new_request() -> tuple[str, int]:
    return render_form({"urgency": "normal"}, {})


@pages.post("/")
def create_request() -> Response | tuple[str, int]:
    """Record the call: first the form's errors; then, if an open request has the same phone or
    address, the coordinator chooses between adding this call to it and a new request."""
    data, errors = load_form()
    if errors:
        return render_form(request.form.to_dict(), errors, 422)
    hub = context()
    link_to = request.form.get("link_to")
    if link_to:
        show_conflict_with(lambda message: render_form(request.form.to_dict(), {"name": message}, 409))
        hub.uow.run(add_call_to, hub.bus, link_to, data, actor())
        return redirect(url_for("pages.show_request", request_id=link_to), code=303)
    if request.form.get("decision") != "new":
        with hub.db.sessions() as db_session:
            duplicates = possible_duplicates(db_session, data)
        if duplicates:
            return render_form(request.form.to_dict(), {}, 409, duplicates)
    help_request = record(data)
    return redirect(url_for("pages.show_request", request_id=help_request.id, recorded=1), code=303)


def render_request(
    request_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    caller = current_caller()
    hub = context()
    with hub.uow.begin() as db_session:  # (a transaction: every look at personal data is kept)
        help_request = get_request(db_session, request_id)
        others: list[str] = []
        if caller is not None and caller.kind == "person":
            other_ids = note_look(db_session, request_id, caller.id)
            if other_ids:
                others = list(db_session.scalars(select(Person.email).where(Person.id.in_(other_ids))))
        help_request.candidates  # noqa: B018 (loaded while the session is open)
        page = render_template(
            "request.html",
            request=help_request,
            needs=NEED_LABELS,
            errors=errors or {},
            others=others,
            why=queue.why_now(help_request, datetime.now(UTC)),
            close_reasons=CLOSE_REASONS,
            just_recorded=request.args.get("recorded") == "1",
            dispatch_url=hub.settings.dispatch_url,
        )
    return page, status


@pages.get("/requests/<request_id>")
def show_request(request_id: str) -> tuple[str, int]:
    return render_request(request_id)


def form_values(help_request: HelpRequest) -> dict[str, str]:
    """A request as the form's fields, to edit it."""
    yes = lambda flag: "yes" if flag else ""  # noqa: E731
    return {
        "name": help_request.requester_name,
        "phone": help_request.requester_phone or "",
        "email": help_request.requester_email or "",
        "postcode": help_request.requester_postcode,
        "address": help_request.requester_address,
        "need": help_request.need,
        "urgency": help_request.urgency,
        "details": help_request.details,
        "vulnerable": yes(help_request.vulnerable),
        "safeguarding": yes(help_request.safeguarding),
        "consent": yes(help_request.consent_data_processing),
        "updates": yes(help_request.consent_updates),
        "same_volunteer": yes(help_request.consent_same_volunteer),
        "on_behalf": yes(help_request.caller_name),
        "caller_name": help_request.caller_name or "",
        "caller_relation": help_request.caller_relation or "",
        "caller_contact": help_request.caller_contact or "",
    }


@pages.route("/requests/<request_id>/edit", methods=["GET", "POST"])
def edit_request_page(request_id: str) -> Response | tuple[str, int]:
    help_request = load(request_id)
    editing = {
        "heading": f"Edit request {help_request.reference}",
        "form_action": url_for("pages.edit_request_page", request_id=request_id),
        "submit_label": "Save changes",
    }
    if request.method == "GET":
        return render_form(form_values(help_request), {}, **editing)
    data, errors = load_form()
    if errors:
        return render_form(request.form.to_dict(), errors, 422, **editing)
    hub = context()
    show_conflict_with(lambda message: render_form(request.form.to_dict(), {"need": message}, 409, **editing))
    hub.uow.run(edit_request, hub.bus, request_id, data, actor())
    return redirect(url_for("pages.show_request", request_id=request_id), code=303)


ACTION_LABELS = {
    "note": "Write the note",
    "call": "Say what was said or agreed",
    "escalate": "Say why it needs a coordinator",
    "hold": "Say why it is on hold",
    "close": "Choose why it is closed",
    "cancel": "Say why it is cancelled",
    "reopen": "Say why it is reopened",
    "merge": "Give the reference of the request to keep",
}


@pages.post("/requests/<request_id>/<action>")
def request_action(request_id: str, action: str) -> Response | tuple[str, int]:
    """A coordinator's action on a request. An empty reason is an error on the page and changes
    nothing; an action that no longer fits (someone else closed it meanwhile) says why."""
    if action not in ACTION_LABELS:
        abort(404)
    text = request.form.get("text", "").strip()[:2000]
    if not text or (action == "close" and text not in CLOSE_REASONS):
        return render_request(request_id, {action: ACTION_LABELS[action]}, 422)
    by = actor()
    hub = context()
    show_conflict_with(lambda message: render_request(request_id, {action: message}, 409))
    with hub.uow.begin() as db_session:
        if action == "note":
            add_note(db_session, request_id, text, by)
        elif action == "call":
            with_whom = request.form.get("with_whom", "").strip()[:100] or "the requester"
            log_call(db_session, request_id, with_whom, text, by)
        elif action == "escalate":
            escalate(db_session, hub.bus, request_id, text, by)
        elif action == "hold":
            hold(db_session, hub.bus, request_id, text, by)
        elif action == "merge":
            merge(db_session, hub.bus, request_id, text, by)
        elif action in ("close", "cancel"):
            reason = CLOSE_REASONS.get(text, text) if action == "close" else text
            end(db_session, hub.bus, request_id, action, reason, by)
        else:
            reopen(db_session, hub.bus, request_id, text, by)
    return redirect(url_for("pages.show_request", request_id=request_id), code=303)


# -- the queue --------------------------------------------------------------------------------

REASON_LABELS = {
    AttentionReason.escalated: label(RequestStatus.escalated),
    AttentionReason.safeguarding: "safeguarding concerns open",
    AttentionReason.overdue: "overdue",
    AttentionReason.unmatched: "not matched yet",
}
PER_PAGE = 50
MAX_PAGE = 10_000  # 500,000 requests deep: enough, and a database offset never overflows


@pages.route("/queue", methods=["GET", "POST"])
def queue_page() -> tuple[str, int]:
    """What needs a person now first; filters in the URL (nothing personal), a search by name
    or phone in the body of a POST (never in a URL)."""
    view = request.args.get("view", "attention")
    try:
        schema = RequestQuery()
        args = schema.load({k: v for k, v in request.args.items() if v and k in schema.fields})
        page = min(max(1, int(request.args.get("page", "1"))), MAX_PAGE)
        error = None
    except (ValidationError, ValueError):
        args, page, error = {}, 1, "Those filters are not valid; showing everything instead."
    query = request.form.get("query", "").strip() if request.method == "POST" else None
    now = datetime.now(UTC)
    if query:
        filters = queue.QueueFilter(search=query)
        heading = "Found"
    else:
        args["needs_attention"] = view == "attention"
        filters = queue.QueueFilter(**args)
        heading = "Needs a person now" if view == "attention" else "Requests"
    with context().db.sessions() as db_session:
        found, total = queue.find(db_session, filters, page=page, per_page=PER_PAGE, now=now)
        counts = queue.counts_by_status(db_session)
        attention = queue.attention_counts(db_session, now)

    def page_url(number: int) -> str:
        return url_for("pages.queue_page", **(request.args.to_dict() | {"page": number}))

    page_html = render_template(
        "queue.html",
        requests=found,
        total=total,
        page=page,
        pages=1 if query else max(1, -(-total // PER_PAGE)),  # a search shows its first 50
        page_url=page_url,
        heading=heading,
        view=view,
        filters=filters,
        filtered=any(v for k, v in args.items() if k != "needs_attention"),
        query=query,
        counts=counts,
        attention=attention,
        reason_labels=REASON_LABELS,
        statuses=queue.STATUSES,
        needs=NEED_LABELS,
        urgencies=URGENCIES,
        why=lambda r: queue.why_now(r, now),
        error=error,
    )
    return page_html, 200


# -- the council's view ------------------------------------------------------------------------


def period() -> int:
    days = request.args.get("days", "28")
    return int(days) if days.isdecimal() and days.isascii() and int(days) in dashboard.PERIODS else 28


DASHBOARD_FRESH_SECONDS = 60  # the council's numbers need not be newer than a minute


def dashboard_numbers(days: int) -> dashboard.Dashboard:
    """The dashboard for `days`, built at most once a minute per web process: with 100,000
    requests a build reads every row of the period (about a second on SQLite)."""
    cache: dict[int, dashboard.Dashboard] = current_app.extensions.setdefault("hub.dashboards", {})
    cached = cache.get(days)
    now = datetime.now(UTC)
    if cached is None or (now - cached.built_at).total_seconds() > DASHBOARD_FRESH_SECONDS:
        with context().db.sessions() as db_session:
            cached = cache[days] = dashboard.build(db_session, days, now)
    return cached


@pages.get("/dashboard")
def dashboard_page() -> str:
    numbers = dashboard_numbers(period())
    return render_template(
        "dashboard.html",
        dashboard=numbers,
        periods=dashboard.PERIODS,
        suppress_below=dashboard.SUPPRESS_BELOW,
    )


@pages.get("/dashboard.csv")
def dashboard_csv() -> Response:
    numbers = dashboard_numbers(period())
    name = f"hub-dashboard-last-{numbers.days}-days-{datetime.now(UTC):%Y-%m-%d}.csv"
    return Response(
        dashboard.as_csv(numbers),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@pages.route("/status", methods=["GET", "POST"])
def status_by_reference() -> tuple[str, int]:
    """One request's status by its reference: no name, address, phone or free text."""
    reference = request.form.get("reference", "").strip().upper()[:16]
    if request.method == "GET":
        return render_template("status.html", reference="", found=None, error=None), 200
    with context().db.sessions() as db_session:
        found = db_session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    if found is None:
        error = (
            "Enter a reference, like KXT-4QM" if not reference else "There is no request with that reference"
        )
        return render_template("status.html", reference=reference, found=None, error=error), 404
    return render_template("status.html", reference=reference, found=found, error=None), 200


CHECK_MAX_AGE = 60 * 24 * 3600


@pages.route("/requests/check/<token>/<answer>", methods=["GET", "POST"])
def requester_check(token: str, answer: str) -> tuple[str, int]:
    """ "Did you get help?": the link in the message to a requester who agreed to updates opens
    a page; only its button answers (mail scanners open links)."""
    if answer not in ("yes", "no"):
        abort(404)
    try:
        request_id = context().signer.verify(REQUESTER_CHECK_LINK, token, max_age_seconds=CHECK_MAX_AGE)
    except InvalidLink:
        abort(404, description="This link is not valid or has expired. Please call the hub.")
    if request.method == "GET":
        return render_template("check.html", got_help=answer == "yes"), 200
    hub = context()
    hub.uow.run(requester_answered, hub.bus, request_id, got_help=answer == "yes")
    thanks = (
        "Thank you for telling us." if answer == "yes" else "Thank you. Someone from the hub will call you."
    )
    return render_template("answered.html", thanks=thanks), 200


# -- signing in ------------------------------------------------------------------------------------


def actor() -> str:
    """Who is acting, as the timeline names them: the signed-in person's email address."""
    person = signed_in()
    return person.email if person else "unknown"


def signed_in() -> Person | None:
    """The person signed in on this browser (the access check has read their session)."""
    caller = current_caller()
    if caller is None or caller.kind != "person":
        return None
    with context().db.sessions() as db_session:
        return db_session.get(Person, caller.id)


def safe_next(target: str | None) -> str | None:
    """Where to go after signing in: back to the hub page that sent the browser here (a page of
    one of the three services, at its public address), never anywhere else."""
    if not target or any(ord(c) < 32 or c == "\\" for c in target):
        return None
    settings = context().settings
    for base in (settings.intake_url, settings.dispatch_url, settings.notify_url):
        if target == base or target.startswith(base + "/"):
            return target
    parts = urlsplit(target)
    if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return None


HOME = {"admin": "pages.queue_page", "coordinator": "pages.queue_page", "council": "pages.dashboard_page"}


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in_page() -> tuple[str, int] | Response:
    next_page = request.values.get("next", "")
    if request.method == "GET":
        return render_template("sign_in.html", error=None, email="", next_page=next_page), 200
    email, password = request.form.get("email", ""), request.form.get("password", "")
    with context().uow.begin() as db_session:
        try:
            person = sign_in(db_session, email, password)
            who = (person.id, person.role, person.partner)
        except Refused as exc:  # caught inside the transaction: the failure count is kept
            page = render_template("sign_in.html", error=str(exc), email=email, next_page=next_page)
            return page, 401
    start_session(*who)
    home = url_for(HOME[who[1]]) if who[1] in HOME else f"{context().settings.dispatch_url}/partner"
    return redirect(safe_next(next_page) or home, code=303)


@pages.post("/sign-out")
def sign_out() -> Response:
    session.clear()
    return redirect(url_for("pages.sign_in_page"), code=303)


@pages.get("/account")
def account() -> tuple[str, int] | Response:
    person = signed_in()
    if person is None:
        return redirect(url_for("pages.sign_in_page"), code=303)
    return render_template("account.html", person=person), 200


@pages.route("/password/<token>", methods=["GET", "POST"])
def set_password_page(token: str) -> tuple[str, int]:
    """The one-time link from `hub users create`: choose a password (only the POST sets it)."""
    try:
        nonce = context().signer.verify(PASSWORD_LINK, token, max_age_seconds=4 * 24 * 3600)
    except InvalidLink:
        abort(404, description="This link is not valid. Ask an admin for a new one.")
    if request.method == "GET":
        return render_template("password.html", error=None), 200
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return render_template("password.html", error="The two passwords are not the same"), 422
    try:
        context().uow.run(set_password, nonce, password)
    except ValueError as exc:
        status = 409 if isinstance(exc, Refused) else 422
        return render_template("password.html", error=str(exc)), status
    return render_template("answered.html", thanks="Your password is set. You can sign in now."), 200
