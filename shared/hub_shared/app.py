"""Wiring that every service's `create_app` does the same way: settings, database, Celery, bus,
signed links and the web basics. A service adds only its own routes and handlers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import click
from celery import Celery, Task
from celery.signals import worker_process_init
from flask import Flask, current_app
from sqlalchemy.orm import Session

from hub_shared.access import AccessTable, init_access
from hub_shared.auth import ApiTokens
from hub_shared.bus import Bus, BusModels, Handler, keep_revoked
from hub_shared.celery import celery_init_app
from hub_shared.config import Settings
from hub_shared.db import Database
from hub_shared.events import Event, TokenRevoked
from hub_shared.redis_client import redis_client
from hub_shared.tokens import LinkSigner
from hub_shared.uow import UnitOfWork
from hub_shared.web import HubApi, init_web

# A handler that keeps failing is retried this many times (2, 4, 8, 16, 32 s apart: well
# under the visibility timeout), then its event goes to the dead-letter table.
MAX_HANDLER_RETRIES = 5


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    celery: Celery
    bus: Bus
    uow: UnitOfWork
    signer: LinkSigner
    tokens: ApiTokens
    api: HubApi


def init_service(
    app: Flask,
    *,
    service: str,
    env: Mapping[str, str],
    models: BusModels,
    access: AccessTable,
    error_template: str | None = None,
) -> ServiceContext:
    settings = Settings.from_env(service, env)
    app.config["SECRET_KEY"] = settings.secret_key
    db = Database(settings.database_url)
    celery = celery_init_app(app, settings)
    bus = Bus(service=service, db=db, celery=celery, models=models)
    context = ServiceContext(
        settings=settings,
        db=db,
        celery=celery,
        bus=bus,
        uow=bus.uow,
        signer=LinkSigner(settings.secret_key),
        tokens=ApiTokens(settings.secret_key),
        api=init_web(
            app,
            service=service,
            db=db,
            # (The Redis client connects when it is first asked.)
            ready_checks={
                "database": db.ping,
                "redis": redis_client(settings.redis_url, settings.redis_sentinel_master).ping,
            },
            error_template=error_template,
        ),
    )
    app.extensions["hub"] = context

    def is_revoked(token_id: str) -> bool:
        with db.sessions() as session:
            return session.get(models.revoked_tokens, token_id) is not None

    init_access(
        app,
        access,
        context.tokens,
        is_revoked=is_revoked,
        intake_url=settings.intake_url,
        own_url=getattr(settings, f"{service}_url"),
        links=navigation_links(settings),
    )

    @app.teardown_appcontext
    def relay_before_a_command_ends(_error: BaseException | None) -> None:
        # A CLI command (`hub token revoke`) ends with its process: send what it published
        # now. Web requests and tasks leave it to the relayer's thread.
        if click.get_current_context(silent=True) is not None:
            bus.uow.relayer.flush()

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_: Any) -> None:
        # A forked pool process must not share the parent's database connections.
        db.engine.dispose(close=False)

    return context


def navigation_links(settings: Settings) -> dict[str, str]:
    """Every signed-in page's navigation, across the three services (one origin in compose)."""
    return {
        "queue": f"{settings.intake_url}/queue",
        "new_call": f"{settings.intake_url}/",
        "dashboard": f"{settings.intake_url}/dashboard",
        "volunteers": f"{settings.dispatch_url}/volunteers",
        "partners": f"{settings.dispatch_url}/partners",
        "partner_queue": f"{settings.dispatch_url}/partner",
        "account": f"{settings.intake_url}/account",
        "sign_out": f"{settings.intake_url}/sign-out",
    }


def context() -> ServiceContext:
    """The running service's context (inside a request or a task)."""
    return current_app.extensions["hub"]


def sweep(*steps: Callable[[], object]) -> None:
    """The body of every service's periodic sweep: its own steps (expiring, retrying,
    reconciling), then send whatever the outbox still holds, then prune old bus rows. This is
    the safety net behind the unit of work's relayer: a broker outage delays events, never
    loses them."""
    bus = context().bus
    for step in steps:
        step()
    bus.relay()
    bus.prune()


def consume_with_retries(task: Task, message: Any, handlers: Mapping[str, Handler]) -> str:
    """The body of every service's `handle_event` task."""
    bus = context().bus
    handlers = {"token.revoked": record_revocation, **handlers}
    try:
        outcome, _event = bus.consume(message, handlers)
        return outcome
    except Exception as exc:
        if task.request.retries >= MAX_HANDLER_RETRIES:
            bus.dead_letter(message, f"failed {MAX_HANDLER_RETRIES + 1} times: {exc!r}")
            return "dead"
        # A countdown is held unacknowledged by the worker: kept under the visibility timeout.
        raise task.retry(exc=exc, countdown=min(2 ** (task.request.retries + 1), 16)) from exc


def record_revocation(session: Session, event: Event[TokenRevoked]) -> None:
    """Every service keeps the tokens intake revoked; its access check refuses them."""
    keep_revoked(session, context().bus.models.revoked_tokens, event.payload.token_id, event.occurred_at)
