"""Who may use each endpoint, checked on the server before any view runs.

Every service declares one table, `<service>/access.py`, naming a rule for every endpoint of its
Flask app (for one method or for all). An endpoint with no rule is refused: a route added
without a decision about who may use it cannot be reached, and the role test over each
service's URL map fails.

- `/api/` paths take an API token (`Authorization: Bearer <token>`): none or a bad one is 401,
  a role the rule does not name is 403 (JSON).
- Pages take the signed session that intake starts at sign-in. It is signed with
  HUB_SECRET_KEY and carries the person's id, role and partner, so every service reads it
  without asking intake; signed out, a page sends the browser to intake's sign-in page and back.
  A form sent from a signed-in page must carry its CSRF token.
- `ANYONE` is for what protects itself: signed links (offers, referrals, password links), the
  sign-in page, the SMS provider's signed callbacks, health checks and static files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from flask import Flask, g, redirect, request, session
from flask_smorest import abort as api_abort
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response

from hub_shared.auth import ROLES, ApiTokens, Caller

log = logging.getLogger(__name__)

# A session ends after SESSION_IDLE of no page asked for, or SESSION_HOURS after signing in
# whatever happens: long enough for a shift, so a call being typed is not lost to a sign-out.
SESSION_HOURS = 12
SESSION_IDLE = timedelta(hours=2)
SEEN_EVERY = timedelta(minutes=5)  # how often the cookie is rewritten to say "still here"
SESSION_COOKIE = "hub_session"  # one name in every service: the session is shared


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] | None  # None: anyone, signed in or not

    def allows(self, role: str) -> bool:
        return self.roles is None or role in self.roles


ANYONE = Rule(None)


def only(*roles: str) -> Rule:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Rule(frozenset(roles))


# The roles most endpoints use.
STAFF = only("admin", "coordinator")  # read and change requests, volunteers, messages
READERS = only("admin", "coordinator", "council")  # the council may read, never write
SIGNED_IN = only(*ROLES)

# An endpoint's rule, or its rules by HTTP method ("GET", "POST", ...).
AccessTable = Mapping[str, Rule | Mapping[str, Rule]]


def rule_for(table: AccessTable, endpoint: str, method: str) -> Rule | None:
    entry = table.get(endpoint)
    if isinstance(entry, Mapping):
        return entry.get("GET" if method == "HEAD" else method)
    return entry


# -- the signed session ---------------------------------------------------------------------------


def start_session(person_id: str, role: str, partner: str | None) -> None:
    session.clear()  # nothing carried over from before signing in
    now = datetime.now(UTC).isoformat()
    session.update(person_id=person_id, role=role, partner=partner, signed_in_at=now, seen_at=now)


def session_caller() -> Caller | None:
    """The person signed in on this browser, if their session is young enough."""
    person_id, role, since = session.get("person_id"), session.get("role"), session.get("signed_in_at")
    if not person_id or role not in ROLES or not since:
        return None
    now = datetime.now(UTC)
    seen = datetime.fromisoformat(session.get("seen_at") or since)
    if now - datetime.fromisoformat(since) > timedelta(hours=SESSION_HOURS) or now - seen > SESSION_IDLE:
        session.clear()
        return None
    if now - seen > SEEN_EVERY:
        session["seen_at"] = now.isoformat()
    return Caller(id=person_id, role=role, partner=session.get("partner"), kind="person")


def current_caller() -> Caller | None:
    """Who is asking (set before every view by the access check)."""
    return g.get("caller")


# -- the check ------------------------------------------------------------------------------------


def init_access(
    app: Flask,
    table: AccessTable,
    tokens: ApiTokens,
    *,
    is_revoked: Callable[[str], bool],
    intake_url: str,
    own_url: str,
    links: Mapping[str, str],
) -> None:
    """Check every request against `table`. `own_url` is this service's public address (where
    sign-in sends the browser back to); `links` are the pages the navigation offers."""
    sign_in_url = f"{intake_url}/sign-in"
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=intake_url.startswith("https://"),  # behind TLS: never sent in clear
        # Checked below, only where a signed-in person posts a form.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    csrf = CSRFProtect(app)

    @app.context_processor
    def navigation() -> dict[str, object]:
        return {"caller": current_caller(), "hub_links": links}

    @app.before_request
    def check_access() -> Response | None:
        if request.endpoint is None:  # no such page: Flask answers 404 or 405
            return None
        api = request.path.startswith("/api/")
        g.caller = bearer_caller(tokens) if api else session_caller()
        if api and g.caller is not None and is_revoked(g.caller.id):
            g.caller = None  # revoked in intake (`hub token revoke`): as if there were none
        rule = rule_for(table, request.endpoint, request.method)
        if rule is None:
            log.error("no access rule for %s %s: refused", request.method, request.endpoint)
            refuse(api, "Nobody may use this yet.")
        assert rule is not None
        if rule.roles is None:  # (its own signed link protects it: no CSRF token needed)
            return None
        if g.caller is None:
            if api:
                api_abort(401, message="Send a valid API token: Authorization: Bearer <token>.")
            # Back to this page at its public address (the browser may have come through a proxy).
            back = own_url + (request.full_path if request.query_string else request.path)
            return redirect(f"{sign_in_url}?{urlencode({'next': back})}", code=303)
        if not rule.allows(g.caller.role):
            refuse(api, f"Your role ({g.caller.role}) may not do this.")
        if not api and request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        return None


def refuse(api: bool, message: str) -> None:
    if api:
        api_abort(403, message=message)
    raise Forbidden(message)


def bearer_caller(tokens: ApiTokens) -> Caller | None:
    """The holder of this API request's bearer token, if it is valid."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return tokens.verify(token.strip()) if scheme.lower() == "bearer" and token else None
