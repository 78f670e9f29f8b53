"""Each service's migrations build exactly the tables its models describe: a model changed
without a migration (or the other way round) fails here, not in someone's deployment."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from hub_shared.db import migrate


@pytest.mark.parametrize("service", ["intake", "dispatch", "notify"])
def test_the_migrations_match_the_models(tmp_path: Path, service: str) -> None:
    url = f"sqlite:///{tmp_path / service}.db"
    migrate(service, url)
    models = importlib.import_module(f"{service}.models")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
