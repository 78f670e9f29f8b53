"""dispatch's Celery tasks: thin entry points into the use cases."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from dispatch.app import dispatch
from dispatch.flows import expire_offers, expire_referrals
from dispatch.models import IdempotencyKey
from hub_shared.app import consume_with_retries, sweep
from hub_shared.idempotency import forget_old_keys


@shared_task(name="dispatch.handle_event", bind=True)
def handle_event(self: Task, message: Any) -> str:
    """Route a new request to volunteers, a partner or the coordinators."""
    return consume_with_retries(self, message, dispatch().handlers)


@shared_task(name="dispatch.sweep")
def sweep_task() -> None:
    """Expire unanswered offers and referrals, send what the outbox still holds, prune old bus
    rows and idempotency keys."""
    sweep(
        lambda: dispatch().run(expire_offers),
        lambda: dispatch().run(expire_referrals),
        lambda: dispatch().uow.run(forget_old_keys, IdempotencyKey),
    )
