"""notify's Celery tasks: thin entry points that call the service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import Task, shared_task

from hub_shared.app import consume_with_retries, context
from hub_shared.app import sweep as run_sweep
from notify.app import notify
from notify.audiences import queue_digest
from notify.service import deliver, due_messages, forget_early_receipts, queued_for_event


def send(message_id: str) -> str:
    return deliver(context().uow, context().bus, message_id, notify().delivery)


@shared_task(name="notify.handle_event", bind=True)
def handle_event(self: Task, message: Any) -> str:
    """Record the messages an event calls for, then send them."""
    outcome = consume_with_retries(self, message, notify().handlers)
    if outcome != "dead":
        # Also on a redelivery: the first run may have died between recording and sending.
        for message_id in queued_for_event(context().db, message["id"]):
            send(message_id)
    return outcome


@shared_task(name="notify.sweep")
def sweep() -> None:
    """Retry messages whose time has come, reclaim abandoned sends, forget receipts for no
    message of ours, relay and prune."""
    hub = context()

    def send_due() -> None:
        for message_id in due_messages(hub.db):
            send(message_id)

    run_sweep(send_due, lambda: hub.uow.run(forget_early_receipts))


@shared_task(name="notify.digest")
def digest() -> int:
    """The coordinators' daily digest (beat asks at 08:00 London time)."""
    parts = notify()
    return context().uow.run(queue_digest, parts.renderer.render, parts.people, datetime.now(UTC))
