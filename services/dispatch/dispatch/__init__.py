"""dispatch: owns volunteers, matching and offers. Workers match each request and offer it;
the pages behind the links in offers take the volunteer's answer."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from dispatch.models import BUS_MODELS
from hub_shared.app import init_service


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    hub = init_service(app, service="dispatch", env=os.environ if env is None else env, models=BUS_MODELS)

    from dispatch import views

    hub.api.register_blueprint(views.api)
    app.register_blueprint(views.pages)
    return app
