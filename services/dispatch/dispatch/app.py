"""dispatch's Flask app, and the one Dispatch its views and tasks are handed."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask, current_app

from dispatch.access import ACCESS
from dispatch.bootstrap import Dispatch, bootstrap
from dispatch.jobs.enums import JobStatus
from dispatch.models import BUS_MODELS
from dispatch.offers.enums import OfferStatus
from dispatch.policy import Policy
from dispatch.referrals.enums import ReferralStatus
from dispatch.volunteers.enums import VolunteerStatus
from hub_shared.app import init_service


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    app = Flask(__name__)
    env = os.environ if env is None else env
    hub = init_service(
        app, service="dispatch", env=env, models=BUS_MODELS, access=ACCESS, error_template="closed.html"
    )
    app.extensions["dispatch"] = bootstrap(
        bus=hub.bus, signer=hub.signer, public_url=hub.settings.dispatch_url, policy=Policy.from_env(env)
    )

    # Templates compare statuses with the enums, never with strings.
    app.jinja_env.globals.update(
        JobStatus=JobStatus,
        OfferStatus=OfferStatus,
        ReferralStatus=ReferralStatus,
        VolunteerStatus=VolunteerStatus,
    )

    from dispatch import cli
    from dispatch.jobs import views as jobs
    from dispatch.offers import views as offers
    from dispatch.referrals import views as referrals
    from dispatch.volunteers import own_pages
    from dispatch.volunteers import views as volunteers

    app.cli.add_command(cli.volunteers)
    app.cli.add_command(cli.postcodes)
    hub.api.register_blueprint(volunteers.api)
    hub.api.register_blueprint(referrals.api)
    for blueprint in (volunteers.pages, own_pages.own, offers.pages, referrals.pages, jobs.pages):
        app.register_blueprint(blueprint)
    return app


def dispatch() -> Dispatch:
    """The running app's Dispatch (inside a request or a task)."""
    return current_app.extensions["dispatch"]
