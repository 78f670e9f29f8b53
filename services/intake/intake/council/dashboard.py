"""The council's dashboard: the hub's work in numbers, with nothing about any person in it.

Counts from 1 to SUPPRESS_BELOW - 1 are suppressed (shown as "fewer than 5", and blank in the
CSV): in a small area or on a quiet day a small count can point at someone. No Flask here."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub_shared.db import Database
from intake.models import HelpRequest
from intake.requests.enums import FINISHED
from intake.requests.queue import STATUSES

LONDON = ZoneInfo("Europe/London")
SUPPRESS_BELOW = 5
PERIODS = (7, 28, 90)  # days the dashboard can look back


@dataclass(frozen=True)
class Count:
    label: str
    value: int

    @property
    def suppressed(self) -> bool:
        return 0 < self.value < SUPPRESS_BELOW

    @property
    def shown(self) -> str:
        return f"fewer than {SUPPRESS_BELOW}" if self.suppressed else f"{self.value:,}"


@dataclass(frozen=True)
class Duration:
    """Hours from a request's call to a moment (assigned, completed), over the period; none
    from fewer than SUPPRESS_BELOW requests (with one, the median is that request's time)."""

    label: str
    median_hours: float | None
    p90_hours: float | None
    count: Count


@dataclass(frozen=True)
class Dashboard:
    days: int
    built_at: datetime
    since: datetime
    total: int
    by_status: list[Count]
    by_need: list[Count]
    by_district: list[Count]
    by_ward: list[Count]  # empty until an admin imports a ward lookup (`hub wards import`)
    by_day: list[Count]
    by_week: list[Count]
    helped_by: list[Count]
    overdue: list[Count]
    durations: list[Duration]

    @property
    def overdue_total(self) -> Count:
        return Count("overdue", sum(c.value for c in self.overdue))

    def sections(self) -> dict[str, list[Count]]:
        return {
            "status": self.by_status,
            "need": self.by_need,
            "postcode district": self.by_district,
            "ward": self.by_ward,
            "day": self.by_day,
            "week starting": self.by_week,
            "helped by": self.helped_by,
            "overdue, by need": self.overdue,
        }


def hours(deltas: list[timedelta]) -> tuple[float | None, float | None]:
    if not deltas:
        return None, None
    values = sorted(d.total_seconds() / 3600 for d in deltas)
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[-1]


def duration(label: str, deltas: list[timedelta]) -> Duration:
    count = Count(label, len(deltas))
    if len(deltas) < SUPPRESS_BELOW:
        return Duration(label, None, None, count)
    return Duration(label, *hours(deltas), count)


def grouped(session: Session, column: InstrumentedAttribute[Any], since: datetime) -> Counter[str]:
    query = select(column, func.count()).where(HelpRequest.created_at >= since).group_by(column)
    return Counter({str(key): value for key, value in session.execute(query).all() if key is not None})


def build(session: Session, days: int, now: datetime | None = None) -> Dashboard:
    now = now or datetime.now(UTC)
    today = now.astimezone(LONDON).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)

    statuses = grouped(session, HelpRequest.status, since)
    needs = grouped(session, HelpRequest.need, since)
    districts = grouped(session, HelpRequest.district, since)
    wards = grouped(session, HelpRequest.ward, since)
    helped = grouped(session, HelpRequest.helped_by, since)
    overdue = Counter(
        dict(
            session.execute(
                select(HelpRequest.need, func.count())
                .where(HelpRequest.status.not_in(FINISHED), HelpRequest.due_at < now)
                .group_by(HelpRequest.need)
            ).all()
        )
    )
    # Days and weeks in London time, and the times to assign and complete, from three columns.
    rows = session.execute(
        select(HelpRequest.created_at, HelpRequest.assigned_at, HelpRequest.completed_at).where(
            HelpRequest.created_at >= since
        )
    ).all()
    per_day: Counter[date] = Counter(created.astimezone(LONDON).date() for created, _, _ in rows)
    per_week: Counter[date] = Counter()
    for day, value in per_day.items():
        per_week[day - timedelta(days=day.weekday())] += value
    to_assign = [assigned - created for created, assigned, _ in rows if assigned]
    to_complete = [completed - created for created, _, completed in rows if completed]

    def counts(counter: Counter[str], order: tuple[str, ...] | None = None) -> list[Count]:
        keys = order if order is not None else sorted(counter, key=lambda k: (-counter[k], k))
        return [Count(key.replace("_", " "), counter.get(key, 0)) for key in keys]

    day_list = [first_day + timedelta(days=i) for i in range(days)]
    week_starts = sorted({d - timedelta(days=d.weekday()) for d in day_list})
    return Dashboard(
        days=days,
        built_at=now,
        since=since,
        total=len(rows),
        by_status=counts(statuses, STATUSES),
        by_need=counts(needs),
        by_district=counts(districts),
        by_ward=counts(wards),
        by_day=[Count(d.isoformat(), per_day.get(d, 0)) for d in day_list],
        by_week=[Count(w.isoformat(), per_week.get(w, 0)) for w in week_starts],
        helped_by=counts(helped),
        overdue=counts(Counter({str(k): v for k, v in overdue.items()})),
        durations=[duration("Time to assign", to_assign), duration("Time to complete", to_complete)],
    )


def as_csv(dashboard: Dashboard) -> str:
    """The dashboard's numbers, one per row; suppressed counts are left blank and say so."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "category", "value", "note"])
    for section, items in dashboard.sections().items():
        for item in items + ([dashboard.overdue_total] if section.startswith("overdue") else []):
            if item.suppressed:
                writer.writerow([section, item.label, "", f"suppressed: fewer than {SUPPRESS_BELOW}"])
            else:
                writer.writerow([section, item.label, item.value, ""])
    for duration in dashboard.durations:
        for name, value in (
            ("median hours", duration.median_hours),
            ("90th percentile hours", duration.p90_hours),
        ):
            writer.writerow([duration.label.lower(), name, "" if value is None else f"{value:.1f}", ""])
    return out.getvalue()


class Dashboards:
    """The dashboard for each period, built at most once every `fresh_seconds` per process:
    with 100,000 requests a build reads every row of the period (about a second on SQLite)."""

    def __init__(self, db: Database, *, fresh_seconds: int) -> None:
        self.db = db
        self.fresh_seconds = fresh_seconds
        self.built: dict[int, Dashboard] = {}

    def numbers(self, days: int, now: datetime | None = None) -> Dashboard:
        now = now or datetime.now(UTC)
        cached = self.built.get(days)
        if cached is None or (now - cached.built_at).total_seconds() > self.fresh_seconds:
            with self.db.sessions() as session:
                cached = self.built[days] = build(session, days, now)
        return cached
