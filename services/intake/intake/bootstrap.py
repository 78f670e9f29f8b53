"""What intake's views, tasks and commands are handed, built once per app by `bootstrap` (from
`create_app`, which the web server, the worker and the CLI all run) and kept on the app as
`app.extensions["intake"]`. Nothing here is rebuilt per call, and nothing is a module-level
cache: every setting comes from the hub's settings, read once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app

from hub_shared.app import ServiceContext
from hub_shared.auth import ApiTokens
from hub_shared.bus import Bus, Handler
from hub_shared.db import Database
from hub_shared.idempotency import Once
from hub_shared.uow import UnitOfWork
from intake.council.dashboard import Dashboards
from intake.links import Links
from intake.models import IdempotencyKey
from intake.people.service import Passwords
from intake.requests.handlers import handlers

DASHBOARD_FRESH_SECONDS = 60  # the council's numbers need not be newer than a minute


@dataclass(frozen=True)
class Intake:
    uow: UnitOfWork  # every change, in one transaction, then its events relayed
    once: Once  # the unit of work for creating requests a caller may send again
    db: Database  # reads (pages and lists) query directly
    bus: Bus
    tokens: ApiTokens
    handlers: Mapping[str, Handler]  # the other services' events intake follows
    links: Links  # password links made, and every link intake checks
    passwords: Passwords
    dashboards: Dashboards  # built at most once a minute per process
    stall_seconds: int  # a request still submitted after this long has its events sent again
    dispatch_url: str  # (the request page links to the job's page in dispatch)
    hub_addresses: tuple[str, ...]  # the three services' public addresses: sign-in may go back there


def bootstrap(hub: ServiceContext) -> Intake:
    settings = hub.settings
    return Intake(
        uow=hub.uow,
        once=Once(hub.uow, IdempotencyKey),
        db=hub.db,
        bus=hub.bus,
        tokens=hub.tokens,
        handlers=handlers(),
        links=Links(hub.signer, intake_url=settings.intake_url),
        passwords=Passwords(),
        dashboards=Dashboards(hub.db, fresh_seconds=DASHBOARD_FRESH_SECONDS),
        stall_seconds=settings.stall_seconds,
        dispatch_url=settings.dispatch_url,
        hub_addresses=(settings.intake_url, settings.dispatch_url, settings.notify_url),
    )


def intake() -> Intake:
    """The running app's (inside a request, a task or a command)."""
    found: Intake = current_app.extensions["intake"]
    return found
