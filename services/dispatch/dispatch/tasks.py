"""dispatch's Celery tasks: thin entry points that call the service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from dispatch.app import links, policy
from dispatch.service import expire_offers, expire_referrals, handlers
from hub_shared.app import consume_with_retries, context
from hub_shared.app import sweep as run_sweep


@shared_task(name="dispatch.handle_event", bind=True)
def handle_event(self: Task, message: Any) -> str:
    """Route a new request to volunteers, a partner or the coordinators."""
    return consume_with_retries(self, message, handlers(context().bus, links(), policy()))


@shared_task(name="dispatch.sweep")
def sweep() -> None:
    """Send what the outbox still holds, expire unanswered offers and referrals, prune old bus rows."""
    hub = context()
    run_sweep(
        lambda: hub.uow.run(expire_offers, hub.bus, links(), policy=policy()),
        lambda: hub.uow.run(expire_referrals, hub.bus, links(), policy=policy()),
    )
