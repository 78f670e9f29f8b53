"""Role checks for every endpoint of every service, driven by each service's URL map: an endpoint
without a rule in its service's access.py fails here (and is refused when running).

For each route and method: without credentials an API answers 401 and a page sends the browser
to sign in (unless the rule lets anyone in); each role is let through exactly when the rule names
it, and otherwise gets 403."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from hub_shared.access import AccessTable, rule_for
from hub_shared.auth import ROLES
from tests.unit.conftest import client_as, make_app

SERVICES = ("intake", "dispatch", "notify")
CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def access_table(service: str) -> AccessTable:
    return importlib.import_module(f"{service}.access").ACCESS


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Flask]]:
    makers = {service: make_app(tmp_path_factory.mktemp(service), service) for service in SERVICES}
    yield {service: next(maker) for service, maker in makers.items()}
    for maker in makers.values():
        next(maker, None)


def routes(app: Flask) -> list[tuple[UrlRule, str]]:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods or ())
        if method in CHECKED_METHODS
    ]


def example_path(rule: UrlRule) -> str:
    """The route with a made-up value in each variable part (an id nobody has)."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"no-such-{m.group(1)}", rule.rule)


def is_sign_in_redirect(response: TestResponse) -> bool:
    return response.status_code == 303 and "/sign-in?next=" in (response.location or "")


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_has_a_rule_and_every_rule_an_endpoint(service: str, apps: dict[str, Flask]) -> None:
    app, table = apps[service], access_table(service)
    missing = [
        f"{method} {rule.rule} ({rule.endpoint})"
        for rule, method in routes(app)
        if rule_for(table, rule.endpoint, method) is None
    ]
    assert not missing, f"no access rule in {service}/access.py for: {missing}"
    assert set(table) <= {rule.endpoint for rule in app.url_map.iter_rules()}, "a rule for no endpoint"


@pytest.mark.parametrize("service", SERVICES)
def test_each_role_is_let_through_exactly_where_its_rule_says(service: str, apps: dict[str, Flask]) -> None:
    app, table = apps[service], access_table(service)
    checked = 0
    for url_rule, method in routes(app):
        rule = rule_for(table, url_rule.endpoint, method)
        assert rule is not None
        path, what = example_path(url_rule), f"{method} {url_rule.rule}"
        anonymous = app.test_client().open(path, method=method)
        if rule.roles is None:
            # (/readyz answers 503 here: the unit apps have no Redis, and saying so is its job.)
            answered = anonymous.status_code < 500 or url_rule.endpoint == "readyz"
            assert not is_sign_in_redirect(anonymous) and answered, what
            continue
        if path.startswith("/api/"):
            assert anonymous.status_code == 401, what
            assert anonymous.get_json()["message"].startswith("Send a valid API token"), what
        else:
            assert is_sign_in_redirect(anonymous), what
        for role in ROLES:  # (a fresh client each time: one route is signing out)
            client = client_as(app, role, "foodbank" if role == "partner" else None)
            answer = client.open(path, method=method)
            if rule.allows(role):
                assert answer.status_code not in (401, 403) and answer.status_code < 500, (what, role)
                assert not is_sign_in_redirect(answer), (what, role)
            else:
                assert answer.status_code == 403, (what, role, answer.status_code)
            checked += 1
    assert checked >= 20  # the map was read, and most of it needs someone signed in


@pytest.mark.parametrize("service", SERVICES)
def test_a_route_added_without_a_rule_is_refused_to_everyone(service: str, tmp_path: Path) -> None:
    app = next(make_app(tmp_path, service))
    app.add_url_rule("/forgotten", "forgotten", lambda: "personal data")
    app.add_url_rule("/api/v1/forgotten", "api_forgotten", lambda: {"personal": "data"})
    admin = client_as(app, "admin")
    assert admin.get("/forgotten").status_code == 403
    assert admin.get("/api/v1/forgotten").status_code == 403


def test_a_token_does_not_open_pages_and_a_session_does_not_open_the_api(apps: dict[str, Flask]) -> None:
    app = apps["intake"]
    signed_in = client_as(app, "coordinator")
    signed_in.environ_base.pop("HTTP_AUTHORIZATION")
    assert signed_in.get("/api/v1/requests").status_code == 401
    token_only = client_as(app, "coordinator")
    token_only.delete_cookie("hub_session")
    assert token_only.get("/api/v1/requests").status_code == 200
    assert is_sign_in_redirect(token_only.get("/"))


def test_a_signed_in_form_without_its_csrf_token_is_refused(apps: dict[str, Flask]) -> None:
    client = client_as(apps["intake"], "coordinator")
    client.environ_base.pop("HTTP_X_CSRFTOKEN")
    answer = client.post("/", data={"name": "Ada"})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
