"""intake's Flask app: the hub's wiring, intake's bootstrap, and one blueprint per audience."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from hub_shared.app import init_service
from intake.access import ACCESS
from intake.bootstrap import bootstrap
from intake.models import BUS_MODELS
from intake.requests.enums import ENDED, FINISHED, RequestStatus


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    hub = init_service(
        app, service="intake", env=os.environ if env is None else env, models=BUS_MODELS, access=ACCESS
    )
    app.extensions["intake"] = bootstrap(hub)
    app.jinja_env.globals.update(RequestStatus=RequestStatus, FINISHED=FINISHED, ENDED=ENDED)

    from intake import cli
    from intake.api.views import api
    from intake.console.views import console
    from intake.council.views import council
    from intake.people.views import people

    app.cli.add_command(cli.users)
    app.cli.add_command(cli.tokens)
    app.cli.add_command(cli.wards)
    hub.api.register_blueprint(api)
    for blueprint in (console, council, people):
        app.register_blueprint(blueprint)
    return app
