"""intake's Celery tasks: thin entry points that run the use cases with what the bootstrap built."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from hub_shared.app import consume_with_retries
from hub_shared.app import sweep as run_sweep
from hub_shared.idempotency import forget_old_keys
from intake.bootstrap import intake
from intake.models import IdempotencyKey
from intake.requests.handlers import reconcile


@shared_task(name="intake.handle_event", bind=True)
def handle_event(self: Task, message: Any) -> str:
    """Follow another service's event on a request's status and timeline."""
    return consume_with_retries(self, message, intake().handlers)


@shared_task(name="intake.sweep")
def sweep() -> None:
    """Send what the outbox still holds, republish stalled requests, prune old bus rows and
    idempotency keys."""
    hub = intake()
    run_sweep(
        lambda: hub.uow.run(reconcile, hub.bus, stall_seconds=hub.stall_seconds),
        lambda: hub.uow.run(forget_old_keys, IdempotencyKey),
    )
