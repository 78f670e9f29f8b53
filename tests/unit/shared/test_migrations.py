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


def test_intakes_queue_migration_keeps_existing_requests_and_fills_in_their_times(tmp_path: Path) -> None:
    """A hub already holding requests (with timelines pointing at them) upgrades: on SQLite the
    requests table is rebuilt, which its foreign keys must not stop."""
    from alembic import command
    from sqlalchemy import text

    from hub_shared.db import alembic_config, make_engine

    url = f"sqlite:///{tmp_path / 'intake'}.db"
    config = alembic_config("intake", url)
    command.upgrade(config, "0005")
    engine = make_engine(url)
    columns = (
        "id, reference, status, need, urgency, details, vulnerable, safeguarding, requester_name, "
        "requester_postcode, requester_address, consent_data_processing, consent_same_volunteer, "
        "consent_updates, created_at, status_changed_at, last_progress_at"
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO requests ({columns}) VALUES ('r1', 'AAA-AAA', 'completed', 'shopping', "
                "'urgent', '', 0, 0, 'M', 'KT1 2AB', '1 Road', 1, 0, 0, '2026-11-01 10:00:00.000000', "
                "'2026-11-01 10:00:00.000000', '2026-11-01 10:00:00.000000')"
            )
        )
        for kind, at in (("offer.accepted", "11"), ("task.completed", "15")):
            connection.execute(
                text("INSERT INTO timeline (request_id, at, kind, summary) VALUES ('r1', :at, :kind, '')"),
                {"at": f"2026-11-01 {at}:00:00.000000", "kind": kind},
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT district, due_at, assigned_at, completed_at, helped_by FROM requests")
        ).one()
        assert connection.execute(text("SELECT count(*) FROM timeline")).scalar() == 2
    engine.dispose()
    assert row[0] == "KT1" and row[1].startswith("2026-11-02 10:00")  # urgent: due within a day
    assert row[2].startswith("2026-11-01 11:00") and row[3].startswith("2026-11-01 15:00")
    assert row[4] == "volunteers"
