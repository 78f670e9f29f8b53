"""intake's Flask app, and what its views and tasks are handed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from hub_shared.app import init_service
from intake.access import ACCESS
from intake.models import BUS_MODELS
from intake.requests.enums import ENDED, FINISHED, RequestStatus


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    hub = init_service(
        app, service="intake", env=os.environ if env is None else env, models=BUS_MODELS, access=ACCESS
    )

    from intake import cli, views

    app.cli.add_command(cli.users)
    app.cli.add_command(cli.tokens)
    app.cli.add_command(cli.wards)
    app.jinja_env.globals.update(RequestStatus=RequestStatus, FINISHED=FINISHED, ENDED=ENDED)
    hub.api.register_blueprint(views.api)
    app.register_blueprint(views.pages)
    return app
