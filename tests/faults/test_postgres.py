"""PostgreSQL's connections cut under load (every backend of the hub's databases terminated,
three times, a few seconds apart): transactions under way fail and are tried again (a POST by
its client, with its Idempotency-Key; a task by Celery), pooled connections are replaced.
Nothing is lost and nothing is doubled."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.faults.harness import assert_nothing_lost_or_doubled, report, settle, steady_load
from tests.support.databases import postgres_server
from tests.support.hub import HubClient
from tests.support.smtp import SmtpServer


def cut_connections(hub: HubClient) -> int:
    """Terminate every connection to the hub's databases; how many there were."""
    names = [hub.runner.env[f"{s}_DATABASE_URL"].rsplit("/", 1)[1] for s in ("INTAKE", "DISPATCH", "NOTIFY")]
    server = postgres_server()
    assert server is not None
    with psycopg.connect(server, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
            (names,),
        ).fetchall()
    return len(cut)


def test_postgres_connections_cut_under_load(hub: HubClient, smtp: SmtpServer, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("PostgreSQL only")
    cut = 0
    with steady_load(hub) as load:
        load.wait_for(2)
        for _ in range(3):
            cut += cut_connections(hub)
            load.wait_for(3)
        last_cut = time.monotonic()
        load.wait_for(4)
    outcome = settle(hub, smtp, load.submitted, fault_ended=last_cut)
    report(
        "PostgreSQL connections cut 3 times",
        backend,
        outcome,
        connections_cut=cut,
        POSTs_sent_again=load.failures,
    )
    assert_nothing_lost_or_doubled(outcome)
    assert cut > 0
