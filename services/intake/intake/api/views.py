"""The requests API: parse, run the use case through the unit of work (or read), answer."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.wrappers import Response

from hub_shared.access import current_caller
from hub_shared.web import IDEMPOTENCY_PARAMETER, idempotency_claim, replayed
from intake.bootstrap import intake
from intake.models import HelpRequest
from intake.requests import queue
from intake.requests.schemas import (
    RequestCreatedOut,
    RequestIn,
    RequestOut,
    RequestQuery,
    RequestSummaryOut,
    SearchIn,
)
from intake.requests.service import get_request, submit_request

api = Blueprint("requests", __name__, url_prefix="/api/v1/requests", description="Requests for help")


@api.route("")
class Requests(MethodView):
    @api.arguments(RequestQuery, location="query")
    @api.response(200, RequestSummaryOut(many=True))
    @api.paginate(page_size=50, max_page_size=200)
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> list[HelpRequest]:
        """Requests, newest first (or, with needs_attention, the most pressing first), a page at a
        time (`page`, `page_size`; the X-Pagination header tells the total)."""
        page, per_page = min(pagination_parameters.page, queue.MAX_PAGE), pagination_parameters.page_size
        with intake().db.sessions() as session:
            found, total = queue.find(session, queue.QueueFilter(**filters), page=page, per_page=per_page)
        pagination_parameters.item_count = total
        return found

    @api.arguments(RequestIn)
    @api.response(201, RequestCreatedOut)
    @api.doc(parameters=[IDEMPOTENCY_PARAMETER])
    def post(self, data: dict[str, Any]) -> tuple[HelpRequest, int, dict[str, str]]:
        """Record a request for help (send an Idempotency-Key: see its description)."""
        hub = intake()
        recorded, before = hub.once.run(idempotency_claim(data), submit_request, get_request, hub.bus, data)
        return recorded, 201, replayed(before)


@api.route("/search")
class SearchRequests(MethodView):
    @api.arguments(SearchIn)
    @api.response(200, RequestSummaryOut(many=True))
    def post(self, data: dict[str, Any]) -> list[HelpRequest]:
        """Find requests by reference, phone number or part of a name (at most 50, newest first).
        A POST so that what is searched for never appears in a URL or a log."""
        with intake().db.sessions() as session:
            found, _ = queue.find(session, queue.QueueFilter(search=data["query"]), per_page=50)
        return found


@api.route("/<request_id>")
class RequestById(MethodView):
    @api.response(200, RequestOut)
    def get(self, request_id: str) -> HelpRequest | Response:
        """A request, with its status and timeline. A council token gets its status only (the
        fields of a request in a list): no name, address, phone or free text."""
        with intake().db.sessions() as session:
            help_request = get_request(session, request_id)
        caller = current_caller()
        if caller is not None and caller.role == "council":
            return jsonify(RequestSummaryOut().dump(help_request))
        return help_request
