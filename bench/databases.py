"""A fresh database for a benchmark, migrated as in production, removed afterwards."""

from __future__ import annotations

import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from hub_shared.db import migrate


@contextmanager
def fresh_database(service: str, kind: str, postgres_url: str | None) -> Iterator[str]:
    """The URL of a new, migrated database for `service`: a SQLite file, or a PostgreSQL
    database made on the server at `postgres_url` and dropped at the end."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
            url = f"sqlite:///{Path(folder) / service}.db"
            migrate(service, url)
            yield url
        return
    if not postgres_url:
        sys.exit("--postgres-url (or TEST_POSTGRES_URL) is needed for PostgreSQL")
    name = f"hub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(service, url)
        yield url
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
