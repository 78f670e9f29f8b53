"""dispatch's Flask app, and what its views and tasks are handed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, current_app

from dispatch.access import ACCESS
from dispatch.models import BUS_MODELS
from dispatch.service import Policy
from dispatch.urls import Links
from hub_shared.app import context, init_service


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    env = os.environ if env is None else env
    hub = init_service(
        app, service="dispatch", env=env, models=BUS_MODELS, access=ACCESS, error_template="closed.html"
    )
    app.extensions["dispatch.policy"] = Policy.from_env(env)

    from dispatch import cli, views

    app.cli.add_command(cli.volunteers)
    app.cli.add_command(cli.postcodes)
    hub.api.register_blueprint(views.api)
    hub.api.register_blueprint(views.referrals_api)
    app.register_blueprint(views.pages)
    return app


def links() -> Links:
    """Signed links into this service's pages (inside a request or a task)."""
    hub = context()
    return Links(signer=hub.signer, base_url=hub.settings.dispatch_url)


def policy() -> Policy:
    """How routing and offers work here (HUB_ROUTING_FILE, HUB_OFFERS_AT_ONCE, HUB_MAX_OFFER_ROUNDS,
    HUB_OFFER_SECONDS)."""
    return current_app.extensions["dispatch.policy"]
