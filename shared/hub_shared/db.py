"""Database plumbing every service uses: engines, sessions and Alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import Session, sessionmaker


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_url(url: str) -> str:
    # Operators write postgresql://...; we talk to it through psycopg 3.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine whose errors never quote the values (they are people's details) into logs."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def begin_writes_immediately(engine: Engine) -> None:
    """pysqlite opens a transaction only at the first write, so two transactions that read a
    request, check its status, then write could both pass the check (`SELECT ... FOR UPDATE`
    does nothing on SQLite). Begin our own transactions instead, and a writing one
    (`Database.transaction`, so every unit of work, relay and sweep) with `BEGIN IMMEDIATE`:
    it takes the write lock first, so another writer waits (busy_timeout) and then reads what
    this one wrote. Read-only sessions begin DEFERRED.
    (SQLAlchemy's documented recipe for pysqlite; migrations keep the driver's own.)"""

    @event.listens_for(engine, "connect")
    def _own_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITES, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Several processes write each service's SQLite file: WAL lets readers and one writer
    # work at once, and the busy timeout waits for the writer instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Read through memory-mapped pages and a larger page cache: matching touches thousands of
    # rows per request, and page-by-page system calls were most of its time (bench/).
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


# An execution option: this transaction changes things (on SQLite it takes the write lock at
# BEGIN; PostgreSQL locks the rows it reads `FOR UPDATE`). Every `transaction()` sets it;
# read-only sessions (`sessions()`) do not.
WRITES = "hub_writes"


class Database:
    """One service's database: an engine and a way to open transactions on it."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        if self.url.startswith("sqlite"):
            begin_writes_immediately(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # PostgreSQL locks rows; SQLite has one lock for the whole database.
        self.locks_rows = not self.url.startswith("sqlite")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on error. It
        reads, decides, then writes, so no other writer may change what it read in between (on
        SQLite a transaction that read and then writes after another writer committed fails at
        once: "database is locked", whatever the busy timeout)."""
        with self.sessions() as session, session.begin():
            session.connection(execution_options={WRITES: True})
            yield session

    def ping(self) -> None:
        """Raises unless the database answers."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(service_package: str, url: str) -> Config:
    """Alembic config for a service whose migrations live in `<package>/migrations`."""
    config = Config()
    config.set_main_option("script_location", f"{service_package}:migrations")
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(service_package: str, url: str) -> None:
    """Bring a service's database up to the newest migration."""
    make_engine(url).dispose()  # creates the SQLite folder if needed
    command.upgrade(alembic_config(service_package, url), "head")


def run_migrations(target_metadata: MetaData) -> None:
    """The body of every service's Alembic env.py: migrate online with our engine settings."""
    from alembic import context

    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        # Batch mode lets later migrations alter tables on SQLite too.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
