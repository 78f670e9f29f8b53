"""dispatch wired once per app: the signed links, the policy (environment and routing file),
the handler table for other services' events, and the unit of work every change goes through.
`create_app` calls it, and so the worker (which runs create_app) does too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from dispatch.deps import Deps
from dispatch.flows import answer_by_text
from dispatch.jobs.service import end_request, hold_request, receive_request, reopen_job, update_job
from dispatch.models import IdempotencyKey, keep_copies_in
from dispatch.policy import Policy
from dispatch.urls import Links
from hub_shared.bus import Bus, Handler
from hub_shared.events import Event
from hub_shared.idempotency import Once
from hub_shared.tokens import LinkSigner
from hub_shared.uow import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")

EventHandler = Callable[[Session, Deps, Event], object]

# What dispatch does with each event it subscribes to (hub_shared/events.py says which).
HANDLERS: dict[str, EventHandler] = {
    "request.submitted": receive_request,
    "request.updated": update_job,
    "request.cancelled": end_request,
    "request.closed": end_request,
    "request.held": hold_request,
    "request.reopened": reopen_job,
    "reply.received": answer_by_text,
}


def handlers(deps: Deps) -> dict[str, Handler]:
    """The handler table with its dependencies bound, as the bus calls it: (session, event)."""

    def bound(handler: EventHandler) -> Handler:
        return lambda session, event: handler(session, deps, event)

    return {event_type: bound(handler) for event_type, handler in HANDLERS.items()}


@dataclass(frozen=True)
class Dispatch:
    """dispatch as its views, tasks and commands use it."""

    uow: UnitOfWork
    once: Once  # the unit of work for creating requests a caller may send again
    deps: Deps
    handlers: Mapping[str, Handler]

    def run(
        self, use_case: Callable[Concatenate[Session, Deps, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a use case that takes dispatch's dependencies in its own transaction."""
        with self.uow.begin() as session:
            return use_case(session, self.deps, *args, **kwargs)


def bootstrap(*, bus: Bus, signer: LinkSigner, public_url: str, policy: Policy) -> Dispatch:
    keep_copies_in(bus.db.sessions)
    deps = Deps(bus=bus, links=Links(signer=signer, base_url=public_url), policy=policy)
    return Dispatch(uow=bus.uow, once=Once(bus.uow, IdempotencyKey), deps=deps, handlers=handlers(deps))
