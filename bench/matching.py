"""Benchmark: how long dispatch takes to rank the candidates for one request, with 100,000 or
1,000,000 synthetic volunteers spread over Great Britain, on SQLite or PostgreSQL.

    .venv/bin/python bench/matching.py --volunteers 100000 --database sqlite
    .venv/bin/python bench/matching.py --volunteers 1000000 --database postgres \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/postgres

It builds a fresh database (migrated as in production), loads the volunteers, then times
`rank_candidates` (the hard rules in SQL plus the scoring) for random requests placed where
people live, and prints the median, the 99th percentile and the peak memory of this process.
Not a test: the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from databases import fresh_database
from sqlalchemy import Connection, insert, text

from dispatch.matching import rank_candidates
from dispatch.models import AvailabilitySlot, Base, Job, Volunteer, VolunteerSkill, latitude_band, skill_bits
from dispatch.routing import SHIPPED_ROUTING, SKILLS
from hub_shared.db import Database

# Where people live: (latitude, longitude, weight, spread in km). Weights roughly follow
# population; a fifth of the volunteers are spread evenly over the country as well.
TOWNS = [
    (51.507, -0.128, 90, 14), (52.486, -1.890, 25, 9), (53.480, -2.242, 25, 9),
    (53.801, -1.549, 18, 8), (55.861, -4.251, 16, 8), (53.408, -2.991, 14, 7),
    (51.454, -2.588, 12, 6), (53.381, -1.470, 12, 6), (55.953, -3.188, 12, 6),
    (54.978, -1.617, 11, 6), (52.954, -1.158, 10, 6), (50.909, -1.404, 9, 5),
    (51.481, -3.179, 9, 5), (52.636, -1.133, 8, 5), (50.822, -0.137, 8, 5),
    (50.376, -4.143, 6, 5), (53.745, -0.336, 6, 5), (52.408, -1.510, 8, 5),
    (51.752, -1.258, 5, 4), (52.205, 0.122, 5, 4), (57.149, -2.094, 5, 5),
    (51.409, -0.298, 4, 3), (54.597, -5.930, 0, 1),
]  # fmt: skip
GB_BOX = (50.1, 58.5, -5.6, 1.7)


def place(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.2:
        return rng.uniform(GB_BOX[0], GB_BOX[1]), rng.uniform(GB_BOX[2], GB_BOX[3])
    lat, lon, _weight, spread = rng.choices(TOWNS, weights=[t[2] for t in TOWNS])[0]
    return lat + rng.gauss(0, spread / 111), lon + rng.gauss(0, spread / 70)


def volunteers(count: int, rng: random.Random) -> Iterator[tuple[dict, list[dict], list[dict]]]:
    now = datetime.now(UTC)
    for n in range(count):
        vid = str(uuid.uuid4())
        lat, lon = place(rng)
        row = {
            "id": vid,
            "name": f"Volunteer {n}",
            "email": f"v{n}@bench.example",
            "phone": None,
            "postcode": "ZZ1 1ZZ",
            "district": "ZZ1",
            "latitude": lat,
            "longitude": lon,
            "latitude_band": latitude_band(lat),
            "max_distance_km": rng.choice((3.0, 5.0, 5.0, 5.0, 10.0, 25.0)),
            "dbs_checked": rng.random() < 0.5,
            "dbs_expires_on": None,
            "status": "active" if rng.random() < 0.9 else rng.choice(("paused", "left", "applied")),
            "on_duty": rng.random() < 0.85,
            "preferred_channel": "email",
            "languages": "",
            "max_active_tasks": 3,
            "active_tasks": rng.choice((0, 0, 0, 1, 2, 3)),
            "last_offered_at": None,
            "created_at": now,
        }
        skills = [{"volunteer_id": vid, "skill": s} for s in SKILLS if rng.random() < 0.4] or [
            {"volunteer_id": vid, "skill": "shopping"}
        ]
        slots = []
        if rng.random() < 0.2:  # a fifth only help at set times
            for weekday in rng.sample(range(7), 3):
                start = rng.randrange(8 * 60, 16 * 60, 30)
                slots.append(
                    {
                        "volunteer_id": vid,
                        "weekday": weekday,
                        "start_minute": start,
                        "end_minute": start + 180,
                    }
                )
        # Written with Core inserts, so the copies the ORM keeps are set here.
        row |= {"skill_bits": skill_bits(s["skill"] for s in skills), "has_slots": bool(slots)}
        yield row, skills, slots


def load(db: Database, count: int, rng: random.Random) -> float:
    started = time.perf_counter()
    batch: tuple[list, list, list] = ([], [], [])
    with db.engine.begin() as connection:
        for row, skills, slots in volunteers(count, rng):
            batch[0].append(row)
            batch[1].extend(skills)
            batch[2].extend(slots)
            if len(batch[0]) >= 20_000:
                flush(connection, batch)
                batch = ([], [], [])
        flush(connection, batch)
        if db.url.startswith("sqlite"):
            connection.execute(text("ANALYZE"))
    if not db.url.startswith("sqlite"):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def flush(connection: Connection, batch: Sequence[list[dict[str, Any]]]) -> None:
    models: tuple[type[Base], ...] = (Volunteer, VolunteerSkill, AvailabilitySlot)
    for model, rows in zip(models, batch, strict=True):
        if rows:
            connection.execute(insert(model), rows)


def measure(db: Database, requests: int, rng: random.Random) -> dict[str, float]:
    needs = ["shopping", "prescription", "befriending", "dog_walking", "transport"]
    times, sizes = [], []
    now = datetime.now(UTC)
    with db.sessions() as session:
        for n in range(requests):
            lat, lon = place(rng)
            job = Job(
                request_id=str(uuid.uuid4()), reference=f"B{n}", status="matching", need=rng.choice(needs),
                urgency="normal", details="", vulnerable=rng.random() < 0.2, requester_name="R",
                requester_phone=None, postcode="ZZ1 1ZZ", district="ZZ1", latitude=lat, longitude=lon,
                address="-", rounds=0, created_at=now,
            )  # fmt: skip
            session.add(job)
            session.flush()
            started = time.perf_counter()
            candidates = rank_candidates(session, job, now, routing=SHIPPED_ROUTING)
            times.append((time.perf_counter() - started) * 1000)
            sizes.append(len(candidates))
        session.rollback()
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "max_ms": times[-1],
        "median_candidates": statistics.median(sizes),
        "no_candidate_share": sum(1 for s in sizes if s == 0) / len(sizes),
    }


@contextmanager
def database(kind: str, postgres_url: str | None) -> Iterator[Database]:
    with fresh_database("dispatch", kind, postgres_url) as url:
        db = Database(url)
        yield db
        db.dispose()


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with database(args.database, args.postgres_url) as db:
        load_seconds = load(db, args.volunteers, rng)
        measure(db, 50, rng)  # warm the caches first, as a running hub's would be
        result = measure(db, args.requests, rng)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result |= {
        "database": args.database,
        "volunteers": args.volunteers,
        "requests": args.requests,
        "load_seconds": round(load_seconds, 1),
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
