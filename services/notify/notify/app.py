"""notify's Flask app, and what its views and tasks are handed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from flask import Flask, current_app

from hub_shared.app import context, init_service
from notify.access import ACCESS
from notify.bootstrap import Notify, bootstrap
from notify.models import BUS_MODELS
from notify.ratelimit import RateLimiter, redis_client
from notify.service import Channels
from notify.sms import SmsProvider


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


def channels() -> Channels:
    """How this hub's messages leave (made once per process, from its settings)."""
    made = current_app.extensions.get("notify.channels")
    if made is None:
        settings = context().settings
        sms = settings.sms
        made = Channels(
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            secret_key=settings.secret_key,
            sms=SmsProvider(sms.url, sms.account_sid, sms.auth_token, sms.sender) if sms else None,
            status_callback=f"{settings.notify_url}/sms/status",
            quiet_hours=settings.quiet_hours,
            retry_seconds=settings.retry_seconds,
            lease=timedelta(seconds=settings.send_lease_seconds),
            html_layout=notify().renderer.html_layout,
            sms_limiter=RateLimiter(
                redis_client(settings.redis_url), "notify:sms-rate", per_second=settings.sms_per_second
            ),
        )
        current_app.extensions["notify.channels"] = made
    return made


def notify() -> Notify:
    """This app's parts, made once by create_app (inside a request or a task)."""
    made: Notify = current_app.extensions["notify"]
    return made
