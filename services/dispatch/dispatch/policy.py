"""How dispatch routes and offers work here: made once by the bootstrap from the environment
and the routing file, and handed to every use case that decides (never a default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from dispatch.routing import SHIPPED_ROUTING, Routing, routing_from_env


@dataclass(frozen=True)
class Policy:
    """The shipped defaults, changed through the environment and the routing file
    (HUB_ROUTING_FILE)."""

    offers_at_once: int = 1  # several: the first to accept wins, the others are withdrawn
    max_rounds: int = 5  # rounds of offers before a coordinator is asked to step in
    offer_lifetime: tuple[tuple[str, timedelta], ...] = (
        ("urgent", timedelta(minutes=30)),
        ("normal", timedelta(hours=4)),
        ("low", timedelta(hours=24)),
    )
    routing: Routing = SHIPPED_ROUTING

    def lifetime(self, urgency: str) -> timedelta:
        return dict(self.offer_lifetime)[urgency]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Policy:
        """Read HUB_OFFERS_AT_ONCE, HUB_MAX_OFFER_ROUNDS, HUB_OFFER_SECONDS ("urgent:1800,normal:14400")."""
        lifetimes = dict(cls.offer_lifetime)
        for part in filter(None, env.get("HUB_OFFER_SECONDS", "").split(",")):
            urgency, _, seconds = part.partition(":")
            if urgency.strip() not in lifetimes:
                raise ValueError(f"HUB_OFFER_SECONDS names an unknown urgency: {urgency!r}")
            lifetimes[urgency.strip()] = timedelta(seconds=float(seconds))
        return cls(
            offers_at_once=int(env.get("HUB_OFFERS_AT_ONCE", cls.offers_at_once)),
            max_rounds=int(env.get("HUB_MAX_OFFER_ROUNDS", cls.max_rounds)),
            offer_lifetime=tuple(lifetimes.items()),
            routing=routing_from_env(env),
        )
