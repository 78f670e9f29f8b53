"""Unit tests: each service's app on its own fresh SQLite database, with no broker.

REDIS_URL points at a socket nobody listens on, so a relay after commit fails at once and the
events stay in the outbox, where the tests read them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from hub_shared.access import start_session
from hub_shared.app import ServiceContext
from hub_shared.db import migrate


def service_env(tmp_path: Path, service: str) -> dict[str, str]:
    return {
        "HUB_SECRET_KEY": "unit-test-secret-0123456789",
        "REDIS_URL": f"redis+socket://{tmp_path / 'nobody-listens.sock'}",
        f"{service.upper()}_DATABASE_URL": f"sqlite:///{tmp_path / service}.db",
        "HUB_VAR_DIR": str(tmp_path / "var"),
    }


def make_app(tmp_path: Path, service: str, **extra_env: str) -> Iterator[Flask]:
    env = service_env(tmp_path, service) | extra_env
    migrate(service, env[f"{service.upper()}_DATABASE_URL"])
    module = __import__(service)
    app: Flask = module.create_app(env)
    app.config["TESTING"] = True
    yield app
    app.extensions["hub"].uow.relayer.stop()
    app.extensions["hub"].db.dispose()


@pytest.fixture
def intake_app(tmp_path: Path) -> Iterator[Flask]:
    yield from make_app(tmp_path, "intake")


@pytest.fixture
def dispatch_app(tmp_path: Path) -> Iterator[Flask]:
    yield from make_app(tmp_path, "dispatch")


@pytest.fixture
def notify_app(tmp_path: Path) -> Iterator[Flask]:
    yield from make_app(tmp_path, "notify")


def hub_of(app: Flask) -> ServiceContext:
    return app.extensions["hub"]


def outbox(app: Flask, type: str | None = None) -> list[dict[str, Any]]:
    """The events a service has published (as they would travel), oldest first."""
    hub = hub_of(app)
    Outbox = hub.bus.models.outbox
    with hub.db.sessions() as session:
        query = select(Outbox).order_by(Outbox.id)
        if type:
            query = query.where(Outbox.type == type)
        return [json.loads(row.body) for row in session.scalars(query)]


def client_as(app: Flask, role: str = "coordinator", partner: str | None = None) -> FlaskClient:
    """A test client for someone with this role: their API token on every request, signed in
    for pages (the session intake would have started), sending the CSRF token forms carry."""
    client = app.test_client()
    with app.test_request_context():
        start_session(f"test-{role}", role, partner)
        csrf_token = generate_csrf()  # (kept in the session, like a page that shows a form)
        signed_in = dict(session)
    with client.session_transaction() as client_session:
        client_session.update(signed_in)
    token = hub_of(app).tokens.issue(role, partner)
    client.environ_base.update(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_CSRFTOKEN=csrf_token)
    return client


def csrf_token_in(page: str) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)
