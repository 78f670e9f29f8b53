"""The event bus: a transactional outbox, a relay to Celery queues, an idempotent inbox and a
dead-letter table, all in each service's own database.

- `publish` adds the event to the outbox in the caller's transaction, so it commits or rolls
  back with the state change it describes. Nothing is sent yet: a broker outage cannot lose it.
- `relay` sends unsent outbox rows to every subscriber's queue: on the unit of work's relayer
  thread right after a commit that published (hub_shared.uow), and again from the periodic
  sweep for whatever a broker outage left behind. A row may be sent twice; consumers are
  idempotent, so that is harmless.
- `consume` records the event id in the inbox in the same transaction as the handler's work, so
  a redelivered event changes nothing twice. An event that breaks its contract goes to the
  dead-letter table with the reason.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Select, String, Text, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub_shared.db import Database, UTCDateTime
from hub_shared.events import CATALOGUE, Event, InvalidEvent, new_event, parse_event
from hub_shared.uow import BackgroundRelayer, UnitOfWork, mark_published

if TYPE_CHECKING:  # use cases import the bus; they must not load Celery
    from celery import Celery

log = logging.getLogger(__name__)

Handler = Callable[[Session, Event[Any]], object]

# A relay gives up quickly when the broker is down; the row stays and the sweep sends it later.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def utcnow() -> datetime:
    return datetime.now(UTC)


def handler_task_name(service: str) -> str:
    return f"{service}.handle_event"


# Each service maps these mixins onto its own declarative Base, so the tables live in its own
# database (see each service's models.py and first migration).
class OutboxMixin:
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class InboxMixin:
    __tablename__ = "inbox"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DeadLetterMixin:
    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedTokenMixin:
    """API tokens revoked in intake (`hub token revoke`), learnt from `token.revoked` events:
    the access check refuses them in every service."""

    __tablename__ = "revoked_tokens"
    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)


def keep_revoked(session: Session, model: type[Any], token_id: str, at: datetime) -> bool:
    """Keep that a token is revoked (once); whether this call was the first to."""
    if session.get(model, token_id) is not None:
        return False
    session.add(model(token_id=token_id, revoked_at=at))
    return True


@dataclass(frozen=True)
class BusModels:
    outbox: type[Any]
    inbox: type[Any]
    dead_letters: type[Any]
    revoked_tokens: type[Any]  # (revocations arrive by the bus: see hub_shared.app)


class Bus:
    def __init__(self, *, service: str, db: Database, celery: Celery, models: BusModels) -> None:
        self.service = service
        self.db = db
        self.celery = celery
        self.models = models
        # Every change in this service goes through this unit of work, which relays after commit.
        self.uow = UnitOfWork(db, BackgroundRelayer(self.relay, name=service))

    # -- producing -------------------------------------------------------------------------

    def publish(
        self, session: Session, type: str, payload: Any, *, request_id: str | None = None
    ) -> Event[Any]:
        """Add an event (its payload: the catalogue's class for `type`) to the outbox within the
        caller's transaction."""
        event = new_event(type, payload, request_id=request_id)
        session.add(
            self.models.outbox(
                event_id=event.id,
                type=event.type,
                request_id=request_id,
                body=json.dumps(event.to_message()),
                created_at=event.occurred_at,
            )
        )
        mark_published(session)
        return event

    def relay(self, limit: int = 500) -> int:
        """Send unsent outbox rows to their subscribers' queues; return how many went.

        On PostgreSQL the rows stay locked while they are sent, so relays running at once share
        them out (SKIP LOCKED). SQLite has one lock for the whole file, and a relay holding it
        while Redis hangs would hold up every change in the service (a POST waited 8 s in a
        Redis pause): there the rows are read, sent with no transaction open, then marked sent;
        two relays at once may send a row twice, which consumers skip."""
        if self.db.locks_rows:
            with self.db.transaction() as session:
                rows = session.scalars(self._unsent(limit).with_for_update(skip_locked=True)).all()
                sent = self._send_rows(rows)
                for row in rows[: len(sent)]:
                    row.published_at = utcnow()
            return len(sent)
        with self.db.sessions() as session:
            rows = session.scalars(self._unsent(limit)).all()
        sent = self._send_rows(rows)
        if sent:
            Outbox = self.models.outbox
            with self.db.transaction() as session:
                session.execute(update(Outbox).where(Outbox.id.in_(sent)).values(published_at=utcnow()))
        return len(sent)

    def _unsent(self, limit: int) -> Select[Any]:
        Outbox = self.models.outbox
        return select(Outbox).where(Outbox.published_at.is_(None)).order_by(Outbox.id).limit(limit)

    def _send_rows(self, rows: Sequence[Any]) -> list[int]:
        """Send rows in order until the broker fails; the ids of those sent."""
        sent: list[int] = []
        for row in rows:
            try:
                self._send(row.type, json.loads(row.body))
            except Exception as exc:  # the broker is unreachable: the sweep tries again
                log.warning("relay stopped, %d outbox events left: %s", len(rows) - len(sent), exc)
                break
            sent.append(row.id)
        return sent

    def _send(self, type: str, message: dict[str, Any]) -> None:
        for subscriber in CATALOGUE[type].subscribers:
            self.celery.send_task(
                handler_task_name(subscriber),
                args=[message],
                queue=subscriber,
                retry=True,
                retry_policy=PUBLISH_RETRY_POLICY,
            )

    def republish(self, session: Session, request_id: str) -> int:
        """Queue a request's events again (the reconciliation sweep); consumers skip what they had."""
        Outbox = self.models.outbox
        result = session.execute(
            update(Outbox).where(Outbox.request_id == request_id).values(published_at=None)
        )
        return result.rowcount or 0  # type: ignore[attr-defined]

    # -- consuming -------------------------------------------------------------------------

    def consume(self, message: Any, handlers: Mapping[str, Handler]) -> tuple[str, Event | None]:
        """Apply one event exactly once. Returns (outcome, event): processed, duplicate or dead."""
        try:
            event = parse_event(message)
        except InvalidEvent as exc:
            self.dead_letter(message, f"invalid event: {exc}")
            return "dead", None
        Inbox = self.models.inbox
        try:
            with self.uow.begin() as session:
                if session.get(Inbox, event.id) is not None:
                    return "duplicate", event
                session.add(Inbox(event_id=event.id, type=event.type, processed_at=utcnow()))
                session.flush()
                handler = handlers.get(event.type)
                if handler is not None:
                    handler(session, event)
        except IntegrityError:
            # Another worker may have taken the same event at the same moment.
            with self.db.sessions() as session:
                if session.get(Inbox, event.id) is not None:
                    return "duplicate", event
            raise
        return "processed", event

    def dead_letter(self, message: Any, error: str) -> None:
        """Park a message that cannot be processed, with the reason, for an admin to see."""
        event_id = message.get("id") if isinstance(message, dict) else None
        type = message.get("type") if isinstance(message, dict) else None
        with self.db.transaction() as session:
            session.add(
                self.models.dead_letters(
                    event_id=str(event_id)[:64] if event_id else None,
                    type=str(type)[:64] if type else None,
                    body=json.dumps(message, default=str),
                    error=error[:4000],
                    created_at=utcnow(),
                )
            )
        # The id and type only: the body may hold personal data.
        log.error("event %s (%s) dead-lettered in %s", event_id, type, self.service)

    def replay_dead_letter(self, dead_letter_id: int, handlers: Mapping[str, Handler]) -> str:
        """Try a dead-lettered event again (after a fix); it stays parked if it fails again."""
        DeadLetter = self.models.dead_letters
        with self.db.sessions() as session:
            letter = session.get(DeadLetter, dead_letter_id)
            if letter is None or letter.replayed_at is not None:
                return "not found"
            message = json.loads(letter.body)
        try:
            outcome, _ = self.consume(message, handlers)
        except Exception as exc:
            with self.db.transaction() as session:
                session.get_one(DeadLetter, dead_letter_id).error = f"replay failed: {exc!r}"[:4000]
            return "failed"
        with self.db.transaction() as session:
            session.get_one(DeadLetter, dead_letter_id).replayed_at = utcnow()
        return outcome

    # -- housekeeping ----------------------------------------------------------------------

    def prune(self, *, outbox_days: int = 7, inbox_days: int = 30) -> None:
        """Drop sent outbox rows and old inbox ids. The inbox outlives the outbox, so an event
        that can still be republished is still recognised as seen."""
        now = utcnow()
        Outbox, Inbox = self.models.outbox, self.models.inbox
        with self.db.transaction() as session:
            session.execute(delete(Outbox).where(Outbox.published_at < now - timedelta(days=outbox_days)))
            session.execute(delete(Inbox).where(Inbox.processed_at < now - timedelta(days=inbox_days)))
