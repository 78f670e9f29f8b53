"""Benchmark: the coordinators' queue page, the requests API and the council's dashboard with
100,000 requests (90 days of a busy hub), on SQLite or PostgreSQL.

    .venv/bin/python bench/queue_page.py --requests 100000 --database sqlite
    .venv/bin/python bench/queue_page.py --requests 100000 --database postgres \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

It builds a fresh intake database (migrated as in production), loads the requests, then times
whole pages through intake's Flask app (access check, queries, template), signed in as a
coordinator, and prints the median and 99th percentile of each. Not a test: the figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from databases import fresh_database
from flask import session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import insert, text

from hub_shared.access import start_session
from hub_shared.db import Database
from hub_shared.events import NEEDS
from intake import create_app
from intake.models import HelpRequest
from intake.requests.queue import DUE_WITHIN

DISTRICTS = [f"KT{n}" for n in range(1, 25)] + [f"SW{n}" for n in range(1, 21)] + ["TW1", "TW2", "CR4"]
# Most requests of 90 days are done; a few hundred are waiting for someone.
STATUSES = {"closed": 60, "completed": 25, "assigned": 6, "offered": 3, "matching": 2, "escalated": 1}
FIRST_NAMES = ["Margaret", "John", "Patricia", "Ahmed", "Grace", "Tom", "Priya", "Stanislaw", "Mary"]
SURNAMES = ["Hill", "Smith", "Jones", "Khan", "Patel", "Nowak", "Brown", "Taylor", "Williams"]


def rows(count: int, rng: random.Random, now: datetime) -> Iterator[dict[str, Any]]:
    statuses, weights = list(STATUSES), list(STATUSES.values())
    for i in range(count):
        created = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
        urgency = rng.choices(("low", "normal", "urgent"), weights=(2, 6, 2))[0]
        status = rng.choices(statuses, weights=weights)[0]
        district = rng.choice(DISTRICTS)
        assigned = None if status == "matching" else created + timedelta(hours=rng.expovariate(1 / 5))
        done = None
        if assigned and status in ("completed", "closed"):
            done = assigned + timedelta(hours=rng.expovariate(1 / 30))
        yield {
            "id": str(uuid.uuid4()),
            "reference": f"B{i:06d}",
            "status": status,
            "need": rng.choice(NEEDS),
            "urgency": urgency,
            "details": "Weekly shop",
            "vulnerable": rng.random() < 0.3,
            "safeguarding": rng.random() < 0.02,
            "requester_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            "requester_phone": f"+447700{rng.randrange(10**6):06d}",
            "requester_email": None,
            "requester_postcode": f"{district} {rng.randrange(1, 9)}AB",
            "requester_address": f"{rng.randrange(1, 200)} Example Road",
            "consent_data_processing": True,
            "consent_same_volunteer": False,
            "consent_updates": False,
            "district": district,
            "created_at": created,
            "due_at": created + DUE_WITHIN[urgency],
            "assigned_at": assigned,
            "completed_at": done,
            "helped_by": "volunteers" if assigned else None,
            "status_changed_at": created,
            "last_progress_at": created,
        }


def load(db: Database, count: int, rng: random.Random) -> float:
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    with db.engine.begin() as connection:
        for row in rows(count, rng, datetime.now(UTC)):
            batch.append(row)
            if len(batch) == 5000:
                connection.execute(insert(HelpRequest), batch)
                batch = []
        if batch:
            connection.execute(insert(HelpRequest), batch)
    return time.perf_counter() - started


def signed_in_client(app: Any) -> tuple[FlaskClient, str]:
    client = app.test_client()
    with app.test_request_context():
        start_session("bench-coordinator", "coordinator", None)
        csrf_token = generate_csrf()
        cookie = dict(session)
    with client.session_transaction() as client_session:
        client_session.update(cookie)
    token = app.extensions["hub"].tokens.issue("coordinator")
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client, csrf_token


def fresh(app: Any, call: Any) -> Any:
    app.extensions.get("hub.dashboards", {}).clear()  # (the page keeps its numbers for a minute)
    return call()


def timed(call: Any, runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return {"median_ms": statistics.median(times), "p99_ms": p99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with (
        fresh_database("intake", args.database, args.postgres_url) as url,
        tempfile.TemporaryDirectory() as var,
    ):
        db = Database(url)
        load_seconds = load(db, args.requests, rng)
        if args.database == "postgres":
            with db.engine.begin() as connection:
                connection.execute(text("ANALYZE"))  # (as autovacuum would, after a big load)
        db.dispose()
        env = {
            "HUB_SECRET_KEY": "bench-secret-0123456789",
            "INTAKE_DATABASE_URL": url,
            "REDIS_URL": f"redis+socket://{var}/nobody.sock",
            "HUB_VAR_DIR": var,
        }
        app = create_app(env)
        client, csrf_token = signed_in_client(app)
        deep_page = max(1, args.requests // 50 // 2)
        pages = {
            "queue: needs a person now, page 1": lambda: client.get("/queue"),
            "queue: all, page 1": lambda: client.get("/queue?view=all"),
            f"queue: all, page {deep_page:,}": lambda: client.get(f"/queue?view=all&page={deep_page}"),
            "queue: need + district + dates": lambda: client.get(
                "/queue?view=all&need=shopping&district=KT1&created_from=2000-01-01"
            ),
            "queue: search by name (POST)": lambda: client.post(
                "/queue", data={"query": "priya pat", "csrf_token": csrf_token}
            ),
            "API: GET /api/v1/requests, 50": lambda: client.get("/api/v1/requests?needs_attention=true"),
            "dashboard: last 90 days, built afresh": lambda: fresh(
                app, lambda: client.get("/dashboard?days=90")
            ),
            "dashboard: last 90 days, within the minute": lambda: client.get("/dashboard?days=90"),
            "dashboard: last 28 days, built afresh": lambda: fresh(
                app, lambda: client.get("/dashboard?days=28")
            ),
        }
        for call in pages.values():  # warm the caches first, as a running hub's would be
            call()
        result = {name: timed(call, args.runs) for name, call in pages.items()}
        app.extensions["hub"].db.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        "database": args.database,
        "requests": args.requests,
        "load_seconds": round(load_seconds, 1),
        "peak_rss_mb": round(peak_mb),
        "pages": {name: {k: round(v, 1) for k, v in figures.items()} for name, figures in result.items()},
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
