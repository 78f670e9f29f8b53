"""notify: owns notifications. Workers turn events into messages, record each, and send it
once; the web app shows the log and the dev outbox."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from hub_shared.app import init_service
from notify.models import BUS_MODELS


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    hub = init_service(app, service="notify", env=os.environ if env is None else env, models=BUS_MODELS)

    from notify import views

    hub.api.register_blueprint(views.api)
    app.register_blueprint(views.pages)
    return app
