"""What every service's Flask app has: the API wrapper, error pages, health check, limits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, render_template_string, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from hub_shared.db import Database
from hub_shared.errors import Conflict, DomainError
from hub_shared.idempotency import Claim

LONDON = ZoneInfo("Europe/London")
MAX_BODY_BYTES = 64 * 1024  # a request for help is a few hundred bytes; more is a mistake

ERROR_PAGE = """{% extends "hub/base.html" %}
{% block title %}{{ name }}{% endblock %}
{% block content %}<h1>{{ name }}</h1><p>{{ description }}</p>{% endblock %}"""


ConflictPage = Callable[[Conflict], Any]


def show_conflict_with(page: ConflictPage) -> None:
    """Show a Conflict raised later in this request as this page (the form, with the message
    beside the field) instead of the app's error page."""
    g.hub_conflict_page = page


IDEMPOTENCY_KEY = "Idempotency-Key"
FORM_TOKEN = "once"  # the hidden field of a creating form: a double click or a resend makes one
# Said of every creating API in its OpenAPI description.
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": IDEMPOTENCY_KEY,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Send one (a random UUID) so that sending the request again, after a time-out "
    "or an error, makes nothing new: within 24 hours the same key with the same body answers "
    "with what the first request made (and `Idempotent-Replayed: true`); with another body, 422.",
}


def idempotency_claim(asked: Any) -> Claim | None:
    """The caller's claim (its Idempotency-Key header) on this creating API, or None."""
    return _claim(request.headers.get(IDEMPOTENCY_KEY), asked)


def form_claim(asked: Any) -> Claim | None:
    """The single-use token a creating form carries (FORM_TOKEN), as a claim, or None."""
    return _claim(request.form.get(FORM_TOKEN) or None, asked)


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def form_token_is_bad() -> bool:
    """Whether the form's token is not one new_form_token could have made (tampered with).
    A form with none at all (a page from before the token) is taken as the API takes a request
    without a key."""
    token = request.form.get(FORM_TOKEN)
    return token is not None and re.fullmatch(r"[A-Za-z0-9_-]{22}", token) is None


def _claim(key: str | None, asked: Any) -> Claim | None:
    if key is None:
        return None
    caller = g.get("caller")
    who = f"{caller.kind}:{caller.id}" if caller is not None else "anyone"
    return Claim.of(f"{who}:{request.endpoint}", key, asked, secret=current_app.config["SECRET_KEY"])


def replayed(before: bool) -> dict[str, str]:
    """The header that tells a client its request was answered from an earlier one."""
    return {"Idempotent-Replayed": "true"} if before else {}


class HubApi(Api):
    """flask-smorest's Api, answering API paths in JSON and pages in HTML."""

    def handle_http_exception(self, error: HTTPException) -> Any:
        if request.path.startswith("/api/"):
            return super().handle_http_exception(error)
        page = render_template_string(
            ERROR_PAGE, code=error.code, name=error.name, description=error.description
        )
        return page, error.code or 500


def init_web(
    app: Flask,
    *,
    service: str,
    db: Database,
    ready_checks: Mapping[str, Callable[[], object]],
    error_template: str | None = None,
) -> HubApi:
    """The web basics every service shares. `ready_checks`: what /readyz asks, by name (each
    raises when what it checks does not answer). `error_template` shows a use case's NotFound
    or Conflict on a page (with `reason`); by default the hub's plain error page."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # (Flask has a default of None)
    app.config.setdefault("API_TITLE", f"Community help hub: {service}")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    # Every API takes a token (hub_shared.access): say so once, for every operation.
    app.config.setdefault("API_SPEC_OPTIONS", {"security": [{"bearer": []}]})
    api = HubApi(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "A token from `hub token create`"}
    )
    # The shared page layout, as templates/hub/base.html, for every service's pages.
    app.register_blueprint(Blueprint("hub", __name__, template_folder="templates"))

    @app.get("/healthz")
    def healthz() -> Any:
        if not answers(db.ping):
            return jsonify(status="unavailable", service=service), 503
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz() -> Any:
        """Ready for work: everything it needs answers (for a load balancer, compose, an
        operator). Says which does not, and nothing about anyone."""
        failing = [name for name, check in ready_checks.items() if not answers(check)]
        if failing:
            return jsonify(status="unavailable", service=service, failing=failing), 503
        return jsonify(status="ok", service=service)

    @app.errorhandler(DomainError)
    def answer_domain_error(error: DomainError) -> Any:
        # The one mapping of every use case's errors: 404 or 409, as JSON or as a page.
        status = HTTPStatus(error.code)
        if request.path.startswith("/api/"):
            return jsonify(code=status.value, status=status.phrase, message=error.message), status.value
        show_on_form = g.get("hub_conflict_page") if isinstance(error, Conflict) else None
        if show_on_form is not None:
            return show_on_form(error)
        if error_template:
            return render_template(error_template, reason=error.message), status.value
        page = render_template_string(ERROR_PAGE, name=status.phrase, description=error.message)
        return page, status.value

    app.add_template_filter(london_time, "london")
    return api


def answers(check: Callable[[], object]) -> bool:
    try:
        check()
    except Exception:  # whatever went wrong, the answer is the same: not ready
        return False
    return True


def london_time(moment: datetime) -> str:
    """Times are stored in UTC and shown as people in the hub read them."""
    return moment.astimezone(LONDON).strftime("%d %b %Y, %H:%M")
