"""notify's Celery tasks: thin entry points that call the service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from flask import render_template

from hub_shared.app import consume_with_retries, context
from hub_shared.tokens import REQUESTER_CHECK_LINK
from notify import channels
from notify.audiences import handlers
from notify.service import deliver, due_messages, queued_for_event


def render(channel: str, template: str, values: dict[str, Any]) -> tuple[str, str]:
    """An email template's first line is `Subject: ...`, the rest its body; a text message's
    template is its body (kept short: every 153 characters is another segment)."""
    text = render_template(f"{channel}/{template}.txt", **values)
    if channel == "sms":
        return "", " ".join(text.split())
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def check_link(request_id: str, answer: str) -> str:
    """The signed link a requester follows to say whether they got help (intake's page)."""
    hub = context()
    token = hub.signer.sign(REQUESTER_CHECK_LINK, request_id)
    return f"{hub.settings.intake_url}/requests/check/{token}/{answer}"


def send(message_id: str) -> str:
    return deliver(context().db, context().bus, message_id, channels())


@shared_task(name="notify.handle_event", bind=True)
def handle_event(self: Task, message: Any) -> str:
    """Record the messages an event calls for, then send them."""
    outcome = consume_with_retries(self, message, handlers(render, check_link))
    if outcome != "dead":
        # Also on a redelivery: the first run may have died between recording and sending.
        for message_id in queued_for_event(context().db, message["id"]):
            send(message_id)
    context().bus.relay()
    return outcome


@shared_task(name="notify.sweep")
def sweep() -> None:
    """Retry messages whose time has come, reclaim abandoned sends, relay and prune."""
    hub = context()
    for message_id in due_messages(hub.db):
        send(message_id)
    hub.bus.relay()
    hub.bus.prune()
