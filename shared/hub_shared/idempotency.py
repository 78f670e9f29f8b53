"""Creating something once, however often it is asked for: the `Idempotency-Key` header on a
creating API (as Stripe's API has it) and the single-use token on a form.

A caller that may send the same request again (a time-out, a double click, a resent form)
names it with a key. The first time, the use case runs and the key is kept, with a fingerprint
of what was asked and the id of what was made, in the same transaction: both commit or
neither does. Again within 24 hours, with the same body, the use case does not run; the view
answers with what the first made. The same key with another body is a mistake: 422.

Two at the same moment: on SQLite the unit of work's transactions take turns, so the second
finds the first's key; on PostgreSQL the second's insert of the key waits for the first to
commit and then fails, and `Once.run` runs it again, now finding the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub_shared.db import UTCDateTime
from hub_shared.errors import Conflict, DomainError
from hub_shared.uow import UnitOfWork

P = ParamSpec("P")
KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


REUSED = (
    "This Idempotency-Key was sent before with a different body: nothing was created. "
    "Send a new key for a new request."
)


class KeyReused(Conflict):
    """The key was used before for a different request. `made`: the id of what it made (a form
    names it: the coordinator changed a form that was saved already)."""

    code = 422

    def __init__(self, made: str) -> None:
        super().__init__(REUSED)
        self.made = made


class BadKey(DomainError):
    code = 400


class IdempotencyKeyMixin:
    __tablename__ = "idempotency_keys"
    # Who asked and where (a token's or a person's id, and the endpoint): one caller's key
    # never answers another's request.
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class Claim:
    """One caller's key for one kind of request, and a fingerprint of what it asked."""

    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, scope: str, key: str, asked: Any, *, secret: str) -> Claim:
        """The fingerprint is keyed with the hub's secret: what was asked holds a caller's name,
        phone and address, and a plain hash of it would let anyone with the database test a
        guess of who called."""
        if not is_good_key(key):
            raise BadKey(f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters.")
        canonical = json.dumps(asked, sort_keys=True, default=str, separators=(",", ":"))
        fingerprint = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
        return cls(scope=scope[:200], key=key, fingerprint=fingerprint)


def is_good_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


class Made(Protocol):
    id: str


M = TypeVar("M", bound=Made)


class Once:
    """Runs creating use cases through the unit of work at most once per claim."""

    def __init__(self, uow: UnitOfWork, model: type[Any]) -> None:
        self.uow = uow
        self.model = model

    def run(
        self,
        claim: Claim | None,
        use_case: Callable[Concatenate[Session, P], M],
        load: Callable[[Session, str], M],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> tuple[M, bool]:
        """(what was made, whether it was made before): `load` fetches an earlier one by id."""
        if claim is None:
            return self.uow.run(use_case, *args, **kwargs), False
        try:
            return self.uow.run(self._once, claim, use_case, load, *args, **kwargs)
        except IntegrityError:
            # Another request with this key committed while this one ran: answer with its work.
            return self.uow.run(self._once, claim, use_case, load, *args, **kwargs)

    def recall(self, claim: Claim | None, load: Callable[[Session, str], M]) -> M | None:
        """What this claim made before, if it did (a read: nothing is changed)."""
        if claim is None:
            return None
        with self.uow.db.sessions() as session:
            kept = session.get(self.model, (claim.scope, claim.key))
            if kept is None or kept.created_at < datetime.now(UTC) - KEEP_FOR:
                return None
            if kept.fingerprint != claim.fingerprint:
                raise KeyReused(kept.result_id)
            return load(session, kept.result_id)

    def _once(
        self,
        session: Session,
        claim: Claim,
        use_case: Callable[Concatenate[Session, P], M],
        load: Callable[[Session, str], M],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> tuple[M, bool]:
        now = datetime.now(UTC)
        kept = session.get(self.model, (claim.scope, claim.key), with_for_update=True)
        if kept is not None and kept.created_at < now - KEEP_FOR:
            session.delete(kept)  # too old to answer for: the key may be used afresh
            session.flush()
            kept = None
        if kept is not None:
            if kept.fingerprint != claim.fingerprint:
                raise KeyReused(kept.result_id)
            return load(session, kept.result_id), True
        made = use_case(session, *args, **kwargs)
        session.add(
            self.model(
                scope=claim.scope,
                key=claim.key,
                fingerprint=claim.fingerprint,
                result_id=made.id,
                created_at=now,
            )
        )
        session.flush()
        return made, False


def forget_old_keys(session: Session, model: type[Any]) -> int:
    """Drop keys older than a day (the sweep)."""
    result = session.execute(delete(model).where(model.created_at < datetime.now(UTC) - KEEP_FOR))
    return result.rowcount or 0  # type: ignore[attr-defined]
