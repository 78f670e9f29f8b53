"""notify's parts, made once from the settings: the renderer, who hears what beyond the event
(links and coordinators), the handler table, and how messages leave (the channels, the SMS
rate limiter, quiet hours, the retry backoff). `create_app` makes them
(for the web app and for the worker, which runs inside it) and keeps them on the app, where
views and tasks read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hub_shared.bus import Handler
from hub_shared.config import Settings
from hub_shared.redis_client import redis_client
from hub_shared.tokens import REQUESTER_CHECK_LINK, LinkSigner
from notify.audiences import People, handlers
from notify.channels import Channel, EmailChannel, SmsChannel, WebhookChannel
from notify.enums import ChannelName
from notify.policies import MAX_ATTEMPTS, Backoff, QuietHours, SendRate
from notify.ratelimit import RateLimiter
from notify.rendering import Renderer
from notify.service import Delivery
from notify.sms import SmsProvider

RATE_WAIT_IN_WORKER = 2.0  # seconds a worker waits for the SMS rate itself; beyond that, the sweep
RATE_OUTAGE_WAIT = timedelta(seconds=5)  # no Redis, no rate: wait rather than flood


@dataclass(frozen=True)
class Notify:
    renderer: Renderer
    people: People
    handlers: Mapping[str, Handler]
    delivery: Delivery


def bootstrap(settings: Settings, signer: LinkSigner, *, templates_dir: str | Path | None) -> Notify:
    renderer = Renderer(templates_dir)
    people = people_of(settings, signer)
    return Notify(
        renderer=renderer,
        people=people,
        handlers=handlers(renderer.render, people),
        delivery=delivery_of(settings, renderer),
    )


def channels_of(
    *,
    smtp_url: str | None,
    mail_from: str,
    html_layout: Callable[[str, str], str] | None,
    sms: SmsProvider | None,
    status_callback: str,
    secret_key: str | None,
) -> dict[str, Channel]:
    """An adapter for each channel configured: mail with an SMTP server, texts with a provider;
    webhooks always (without a secret key they fail, saying so)."""
    channels: dict[str, Channel] = {ChannelName.webhook: WebhookChannel(secret_key)}
    if smtp_url is not None:
        channels[ChannelName.email] = EmailChannel(smtp_url, mail_from, html_layout)
    if sms is not None:
        channels[ChannelName.sms] = SmsChannel(sms, status_callback)
    return channels


def delivery_of(settings: Settings, renderer: Renderer) -> Delivery:
    sms = settings.sms
    quiet = settings.quiet_hours
    return Delivery(
        channels=channels_of(
            smtp_url=settings.smtp_url,
            mail_from=settings.mail_from,
            html_layout=renderer.html_layout,
            sms=SmsProvider(sms.url, sms.account_sid, sms.auth_token, sms.sender) if sms else None,
            status_callback=f"{settings.notify_url}/sms/status",
            secret_key=settings.secret_key,
        ),
        quiet_hours=QuietHours(*quiet) if quiet is not None else None,
        backoff=Backoff(first_seconds=settings.retry_seconds, max_attempts=MAX_ATTEMPTS),
        rate=SendRate(wait_in_worker=RATE_WAIT_IN_WORKER, on_outage=RATE_OUTAGE_WAIT),
        sms_limiter=RateLimiter(
            redis_client(settings.redis_url, settings.redis_sentinel_master),
            "notify:sms-rate",
            per_second=settings.sms_per_second,
        ),
        lease=timedelta(seconds=settings.send_lease_seconds),
    )


def people_of(settings: Settings, signer: LinkSigner) -> People:
    """The coordinators beyond those with the role, and the links into intake that messages carry."""
    intake = settings.intake_url

    def check_link(request_id: str, answer: str) -> str:
        return f"{intake}/requests/check/{signer.sign(REQUESTER_CHECK_LINK, request_id)}/{answer}"

    return People(
        check_link=check_link,
        request_link=lambda request_id: f"{intake}/requests/{request_id}",
        coordinators=settings.coordinators_email,
    )
