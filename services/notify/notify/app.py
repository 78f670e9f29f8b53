"""notify's Flask app, and what its views and tasks are handed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, current_app

from hub_shared.app import init_service
from notify.access import ACCESS
from notify.bootstrap import Notify, bootstrap
from notify.models import BUS_MODELS


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    env = os.environ if env is None else env
    hub = init_service(app, service="notify", env=env, models=BUS_MODELS, access=ACCESS)
    app.extensions["notify"] = bootstrap(hub.settings, hub.signer, templates_dir=env.get("HUB_TEMPLATES_DIR"))

    from notify import views

    hub.api.register_blueprint(views.api)
    hub.api.register_blueprint(views.replies_api)
    app.register_blueprint(views.pages)
    app.register_blueprint(views.provider)
    return app


def notify() -> Notify:
    """This app's parts, made once by create_app (inside a request or a task)."""
    made: Notify = current_app.extensions["notify"]
    return made
