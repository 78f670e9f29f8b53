"""intake's Celery tasks: thin entry points that call the service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from hub_shared.app import consume_with_retries, context
from hub_shared.app import sweep as run_sweep
from intake.service import HANDLERS, reconcile


@shared_task(name="intake.handle_event", bind=True)
def handle_event(self: Task, message: Any) -> str:
    """Follow another service's event on a request's status and timeline."""
    return consume_with_retries(self, message, HANDLERS)


@shared_task(name="intake.sweep")
def sweep() -> None:
    """Send what the outbox still holds, republish stalled requests, prune old bus rows."""
    hub = context()
    run_sweep(lambda: hub.uow.run(reconcile, hub.bus, stall_seconds=hub.settings.stall_seconds))
