"""What dispatch's use cases are handed: made once by the bootstrap (dispatch/bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from dispatch.policy import Policy
from dispatch.urls import Links
from hub_shared.bus import Bus


@dataclass(frozen=True)
class Deps:
    """Where events go, the signed links they carry, and how routing and offers work here."""

    bus: Bus
    links: Links
    policy: Policy


def now_utc() -> datetime:
    return datetime.now(UTC)
