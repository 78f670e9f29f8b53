"""Databases for tests: a SQLite file per service, or a fresh PostgreSQL database per service on
the server named by TEST_POSTGRES_URL (the tests create and drop their own)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

SERVICES = ("intake", "dispatch", "notify")


def postgres_server() -> str | None:
    return os.environ.get("TEST_POSTGRES_URL") or None


def backends() -> list[str]:
    """The database backends this run covers: SQLite always, PostgreSQL where a server is given."""
    return ["sqlite", "postgres"] if postgres_server() else ["sqlite"]


def _server_url(database: str) -> str:
    server = postgres_server()
    assert server is not None
    return server.rsplit("/", 1)[0] + "/" + database


@contextmanager
def service_databases(backend: str, folder: Path) -> Iterator[dict[str, str]]:
    """{service: database URL}, made empty for the test and removed after it."""
    if backend == "sqlite":
        yield {service: f"sqlite:///{folder / service}.db" for service in SERVICES}
        return
    prefix = f"hubtest_{uuid.uuid4().hex[:10]}"
    names = {service: f"{prefix}_{service}" for service in SERVICES}
    admin = postgres_server()
    assert admin is not None
    with psycopg.connect(admin, autocommit=True) as connection:
        for name in names.values():
            connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {service: _server_url(name) for service, name in names.items()}
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            for name in names.values():
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
