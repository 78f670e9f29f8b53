"""The coordinator's console: the call form, a request's page and its actions, and the queue.
Each view parses, runs a use case through the unit of work (or reads), and answers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from hub_shared.access import current_caller
from hub_shared.errors import Conflict
from hub_shared.events import URGENCIES
from hub_shared.idempotency import KeyReused
from hub_shared.states import label
from hub_shared.web import FORM_TOKEN, form_claim, form_token_is_bad, new_form_token, show_conflict_with
from intake.bootstrap import intake
from intake.console.actions import ACTIONS, Asked
from intake.console.forms import NEED_LABELS, form_values, load_form
from intake.models import HelpRequest
from intake.people.views import signed_in
from intake.requests import queue
from intake.requests.enums import AttentionReason, RequestStatus
from intake.requests.schemas import CONSENT_WORDING, RequestQuery
from intake.requests.service import (
    CLOSE_REASONS,
    add_call_to,
    edit_request,
    get_request,
    look_at,
    possible_duplicates,
    submit_request,
)

console = Blueprint("console", __name__)


def actor() -> str:
    """Who is acting, as the timeline names them: the signed-in person's email address."""
    person = signed_in()
    return person.email if person else "unknown"


# -- the call form -----------------------------------------------------------------------------


def render_form(
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    duplicates: list[HelpRequest] | None = None,
    editing: Mapping[str, str] | None = None,
    saved: HelpRequest | None = None,
) -> tuple[str, int]:
    """The call form; `editing`: its heading, action and button when it edits a request;
    `saved`: the request this form was saved as already (a link to it)."""
    page = render_template(
        "request_form.html",
        **(editing or {}),
        values=values,
        errors=errors,
        saved=saved,
        needs=NEED_LABELS,
        urgencies=URGENCIES,
        consent_wording=CONSENT_WORDING,
        duplicates=duplicates or [],
        new_form_token=new_form_token,
    )
    return page, status


@console.get("/")
def new_request() -> tuple[str, int]:
    return render_form({"urgency": "normal"}, {})


@console.post("/")
def create_request() -> Response | tuple[str, int]:
    """Record the call: first the form's errors; then, if an open request has the same phone or
    address, the coordinator chooses between adding this call to it and a new request. The form
    is recorded once, however often it is sent (its single-use token)."""
    data, errors = load_form(request.form)
    if errors:
        return render_form(request.form.to_dict(), errors, 422)
    if form_token_is_bad():
        return render_form(fresh(request.form), {"name": BAD_FORM_TOKEN}, 400)
    hub = intake()
    link_to = request.form.get("link_to")
    # A conflict here: the request is closed, or this form was sent again with other details
    # (Back, changed, saved). Either way the form is shown again as typed, with a new token.
    show_conflict_with(form_conflict)
    claim = form_claim({"data": data, "link_to": link_to})
    if link_to:
        hub.once.run(claim, add_call_to, get_request, hub.bus, link_to, data, actor())
        return redirect(url_for("console.show_request", request_id=link_to), code=303)
    if request.form.get("decision") != "new":
        with hub.db.sessions() as session:
            duplicates = possible_duplicates(session, data)
        # (Read after the duplicates: a twin of this post that made one of them has its token
        # kept by then, as both commit together.)
        sent_before = hub.once.recall(claim, get_request)
        if sent_before is not None:
            return redirect(url_for("console.show_request", request_id=sent_before.id, recorded=1), code=303)
        if duplicates:
            return render_form(request.form.to_dict(), {}, 409, duplicates)
    recorded, _ = hub.once.run(claim, submit_request, get_request, hub.bus, data)
    return redirect(url_for("console.show_request", request_id=recorded.id, recorded=1), code=303)


BAD_FORM_TOKEN = (
    "This form's code that stops a call being recorded twice was changed, so nothing was "
    "recorded: check the details and send it again."
)


def form_conflict(error: Conflict) -> tuple[str, int]:
    """The form again as typed, with a new token, and why: the request it would add to is
    closed, or this form was saved already and has been changed since (Back, changed, saved)."""
    if not isinstance(error, KeyReused):
        return render_form(fresh(request.form), {"name": error.message}, 409)
    with intake().db.sessions() as session:
        saved = get_request(session, error.made)
    return render_form(fresh(request.form), {"name": SAVED_BEFORE.format(saved.reference)}, 409, saved=saved)


SAVED_BEFORE = (
    "This form was saved already, as request {}, and the changes below were not saved. To change "
    "that request, open it and choose Edit. If this is another call, save it as a new request."
)


def fresh(form: Mapping[str, str]) -> dict[str, str]:
    """The form's values with a new single-use token."""
    return {name: value for name, value in form.items() if name != FORM_TOKEN}


# -- a request's page, and the actions on it ---------------------------------------------------


def render_request(
    request_id: str, errors: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    caller = current_caller()
    hub = intake()
    viewer = caller.id if caller is not None and caller.kind == "person" else None
    help_request, others = hub.uow.run(look_at, request_id, viewer)
    page = render_template(
        "request.html",
        request=help_request,
        needs=NEED_LABELS,
        errors=errors or {},
        others=others,
        why=queue.why_now(help_request, datetime.now(UTC)),
        close_reasons=CLOSE_REASONS,
        just_recorded=request.args.get("recorded") == "1",
        dispatch_url=hub.dispatch_url,
    )
    return page, status


@console.get("/requests/<request_id>")
def show_request(request_id: str) -> tuple[str, int]:
    return render_request(request_id)


@console.route("/requests/<request_id>/edit", methods=["GET", "POST"])
def edit_request_page(request_id: str) -> Response | tuple[str, int]:
    hub = intake()
    with hub.db.sessions() as session:
        help_request = get_request(session, request_id)
    editing = {
        "heading": f"Edit request {help_request.reference}",
        "form_action": url_for("console.edit_request_page", request_id=request_id),
        "submit_label": "Save changes",
    }
    if request.method == "GET":
        return render_form(form_values(help_request), {}, editing=editing)
    data, errors = load_form(request.form)
    if errors:
        return render_form(request.form.to_dict(), errors, 422, editing=editing)
    show_conflict_with(
        lambda error: render_form(request.form.to_dict(), {"need": error.message}, 409, editing=editing)
    )
    hub.uow.run(edit_request, hub.bus, request_id, data, actor())
    return redirect(url_for("console.show_request", request_id=request_id), code=303)


@console.post("/requests/<request_id>/<action>")
def request_action(request_id: str, action: str) -> Response | tuple[str, int]:
    """A coordinator's action on a request (ACTIONS). An empty reason is an error on the page and
    changes nothing; an action that no longer fits (someone else closed it meanwhile) says why."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        abort(404)
    text = request.form.get("text", "").strip()[:2000]
    if not chosen.accepts(text):
        return render_request(request_id, {action: chosen.missing}, 422)
    with_whom = request.form.get("with_whom", "").strip()[:100] or "the requester"
    asked = Asked(request_id=request_id, text=text, actor=actor(), with_whom=with_whom)
    show_conflict_with(lambda error: render_request(request_id, {action: error.message}, 409))
    hub = intake()
    hub.uow.run(chosen.run, hub.bus, asked)
    return redirect(url_for("console.show_request", request_id=request_id), code=303)


# -- the queue ---------------------------------------------------------------------------------

REASON_LABELS = {
    AttentionReason.escalated: label(RequestStatus.escalated),
    AttentionReason.safeguarding: "safeguarding concerns open",
    AttentionReason.overdue: "overdue",
    AttentionReason.unmatched: "not matched yet",
}
PER_PAGE = 50


@console.route("/queue", methods=["GET", "POST"])
def queue_page() -> tuple[str, int]:
    """What needs a person now first; filters in the URL (nothing personal), a search by name
    or phone in the body of a POST (never in a URL)."""
    view = request.args.get("view", "attention")
    args: dict[str, Any]
    try:
        schema = RequestQuery()
        args = schema.load({k: v for k, v in request.args.items() if v and k in schema.fields})
        page = min(max(1, int(request.args.get("page", "1"))), queue.MAX_PAGE)
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
    with intake().db.sessions() as session:
        found, total = queue.find(session, filters, page=page, per_page=PER_PAGE, now=now)
        counts = queue.counts_by_status(session)
        attention = queue.attention_counts(session, now)

    def page_url(number: int) -> str:
        arguments: dict[str, Any] = request.args.to_dict() | {"page": number}
        return url_for("console.queue_page", **arguments)

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
