"""How notify's tests reach the parts an app was made with (notify.bootstrap)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask

from notify.audiences import CheckLink, People
from notify.bootstrap import RATE_OUTAGE_WAIT, RATE_WAIT_IN_WORKER, Notify, channels_of
from notify.policies import MAX_ATTEMPTS, Backoff, QuietHours, SendRate
from notify.service import Delivery, Render
from notify.sms import SmsProvider


def parts_of(app: Flask) -> Notify:
    made: Notify = app.extensions["notify"]
    return made


def render_of(app: Flask) -> Render:
    """The app's message renderer (with its HUB_TEMPLATES_DIR, if any)."""
    return parts_of(app).renderer.render


def no_link(*_: str) -> str:
    return ""


def people(
    *,
    check_link: CheckLink = no_link,
    request_link: Callable[[str], str] = no_link,
    coordinators: tuple[str, ...] = (),
) -> People:
    """Who hears what beyond the event, with no links unless given (the handlers' tests)."""
    return People(check_link=check_link, request_link=request_link, coordinators=coordinators)


def delivery(
    *,
    smtp_url: str | None = None,
    mail_from: str = "Community Help Hub <hub@localhost>",
    html_layout: Callable[[str, str], str] | None = None,
    sms: SmsProvider | None = None,
    status_callback: str = "",
    secret_key: str | None = None,
    quiet_hours: tuple[int, int] | None = None,
) -> Delivery:
    """How messages leave, with only what a test gives configured (no SMS rate: no Redis)."""
    return Delivery(
        channels=channels_of(
            smtp_url=smtp_url,
            mail_from=mail_from,
            html_layout=html_layout,
            sms=sms,
            status_callback=status_callback,
            secret_key=secret_key,
        ),
        quiet_hours=QuietHours(*quiet_hours) if quiet_hours is not None else None,
        backoff=Backoff(first_seconds=30.0, max_attempts=MAX_ATTEMPTS),
        rate=SendRate(wait_in_worker=RATE_WAIT_IN_WORKER, on_outage=RATE_OUTAGE_WAIT),
        sms_limiter=None,
        lease=timedelta(minutes=2),
    )
