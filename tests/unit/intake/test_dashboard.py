"""The council's view: a dashboard of numbers with nobody's personal data, small counts
suppressed, the same numbers as CSV, and one request's status by reference."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update

from intake.council.dashboard import build, hours
from intake.models import HelpRequest
from tests.support.hub import request_body
from tests.unit.conftest import client_as, hub_of

PERSONAL = ("Margaret", "Example Road", "+44", "020 8547", "Weekly shop")


def submit(app: Flask, **overrides: Any) -> dict[str, Any]:
    return client_as(app).post("/api/v1/requests", json=request_body(**overrides)).get_json()


def test_the_median_and_90th_percentile_of_hours() -> None:
    assert hours([]) == (None, None)
    assert hours([timedelta(hours=2)]) == (2.0, 2.0)
    median, p90 = hours([timedelta(hours=h) for h in range(1, 11)])
    assert median == 5.5 and p90 is not None and 9 < p90 <= 10


def test_the_dashboard_counts_and_times_and_suppresses_small_counts(intake_app: Flask) -> None:
    created = [submit(intake_app) for _ in range(6)] + [submit(intake_app, need="transport")]
    created.insert(4, created.pop())  # (the transport request is among the five taken on)
    now = datetime.now(UTC)
    with hub_of(intake_app).db.transaction() as session:
        for i, item in enumerate(created[:5]):
            session.execute(
                update(HelpRequest)
                .where(HelpRequest.id == item["id"])
                .values(status="assigned", assigned_at=now + timedelta(hours=i + 1), helped_by="volunteers")
            )
        session.execute(
            update(HelpRequest)
            .where(HelpRequest.id == created[-1]["id"])
            .values(due_at=now - timedelta(hours=1))
        )
        numbers = build(session, 28, now=now)
    assert numbers.total == 7
    by_need = {c.label: c for c in numbers.by_need}
    assert by_need["shopping"].value == 6 and not by_need["shopping"].suppressed
    assert by_need["transport"].suppressed and by_need["transport"].shown == "fewer than 5"
    assert [c.value for c in numbers.by_day][-1] == 7 and len(numbers.by_day) == 28
    assign, complete = numbers.durations
    assert assign.median_hours is not None and 2.9 < assign.median_hours < 3.1  # 1, 2, 3, 4 and 5 hours
    assert assign.count.value == 5
    assert complete.count.value == 0 and complete.median_hours is None  # too few to show
    assert numbers.overdue_total.shown == "fewer than 5"  # one overdue: not given away by the total

    page = client_as(intake_app, "council").get("/dashboard")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Requests by need" in text and "fewer than 5" in text
    assert not any(word in text for word in PERSONAL)


def test_the_csv_has_the_numbers_blank_where_suppressed_and_nothing_personal(intake_app: Flask) -> None:
    for _ in range(5):
        submit(intake_app)
    submit(intake_app, need="transport")
    answer = client_as(intake_app, "council").get("/dashboard.csv?days=7")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    needs = {row["category"]: row for row in rows if row["section"] == "need"}
    assert needs["shopping"]["value"] == "5"
    assert needs["transport"]["value"] == "" and "suppressed" in needs["transport"]["note"]
    assert not any(word in text for word in PERSONAL)


def test_status_by_reference_shows_no_name_address_or_phone(intake_app: Flask) -> None:
    created = submit(intake_app)
    council = client_as(intake_app, "council")
    found = council.post("/status", data={"reference": created["reference"].lower()})
    text = found.get_data(as_text=True)
    assert found.status_code == 200 and created["reference"] in text and "submitted" in text
    assert not any(word in text for word in PERSONAL)
    missing = council.post("/status", data={"reference": "AAA-AAA"})
    assert missing.status_code == 404 and "There is no request with that reference" in missing.get_data(True)
    assert (
        council.get("/queue").status_code == 403
        and council.get(f"/requests/{created['id']}").status_code == 403
    )


def test_an_admin_imports_wards_and_the_dashboard_counts_by_ward(intake_app: Flask, tmp_path: Path) -> None:
    for _ in range(5):
        submit(intake_app)  # KT1 2AB
    bad = tmp_path / "bad.csv"
    bad.write_text("postcode,ward\nKT1 2AB,Grove\nnot a postcode,Canbury\nKT2 5PQ,\n")
    refused = intake_app.test_cli_runner().invoke(args=["wards", "import", str(bad)])
    assert (
        refused.exit_code != 0
        and "line 3: not a UK postcode" in refused.output
        and "line 4" in refused.output
    )
    with hub_of(intake_app).db.sessions() as session:
        assert build(session, 28).by_ward == []  # nothing imported from a bad file
    good = tmp_path / "wards.csv"
    good.write_text("pcds,postcode,ward,lad\nx,kt1 2ab,Grove,Kingston\nx,KT2 5PQ,Canbury,Kingston\n")
    done = intake_app.test_cli_runner().invoke(args=["wards", "import", str(good)])
    assert done.exit_code == 0 and "placed 5 requests" in done.output, done.output
    submit(intake_app, requester={**request_body()["requester"], "postcode": "KT2 5PQ"})
    with hub_of(intake_app).db.sessions() as session:
        by_ward = {c.label: c.value for c in build(session, 28).by_ward}
    assert by_ward == {"Grove": 5, "Canbury": 1}
    page = client_as(intake_app, "council").get("/dashboard").get_data(as_text=True)
    assert "Requests by ward" in page and "Grove" in page
