"""intake: owns requests for help. The coordinator's form, the requests API, and each request's
status and timeline, followed from the other services' events."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from hub_shared.app import init_service
from intake.models import BUS_MODELS


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    hub = init_service(app, service="intake", env=os.environ if env is None else env, models=BUS_MODELS)

    from intake import cli, views

    app.cli.add_command(cli.users)
    hub.api.register_blueprint(views.api)
    app.register_blueprint(views.pages)
    # Sessions are signed with HUB_SECRET_KEY (hub_shared.app), so every service can read them.
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    return app
