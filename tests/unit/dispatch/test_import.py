"""Volunteers from a spreadsheet: each row checked like the API's body, created or updated by
email or phone, bad rows reported by line; the same file twice changes nothing."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from dispatch.models import Volunteer
from tests.support.hub_command import run_hub
from tests.unit.conftest import client_as, hub_of

HEADER = "name,email,phone,postcode,skills,dbs_checked,areas,max_active_tasks\n"
ROWS = [
    "Asha Patel,asha@example.org,07700 900101,kt1 1eu,shopping;driving,yes,KT2;kt3,2\n",
    "Ben Okafor,ben@example.org,,KT6 4DT,dog_walking,no,,\n",
    "Bad Postcode,bad@example.org,,not a postcode,shopping,yes,,\n",
    "Bad Skill,skill@example.org,,KT1 1EU,juggling,maybe,,\n",
]


def write_csv(folder: Path, *rows: str) -> Path:
    path = folder / "volunteers.csv"
    path.write_text(HEADER + "".join(rows))
    return path


def import_file(app: Flask, path: Path) -> str:
    result = app.test_cli_runner().invoke(args=["volunteers", "import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def volunteers(app: Flask) -> dict[str, Volunteer]:
    with hub_of(app).db.sessions() as session:
        return {v.email: v for v in session.scalars(select(Volunteer))}


def test_rows_are_created_and_bad_ones_reported_by_line(dispatch_app: Flask, tmp_path: Path) -> None:
    output = import_file(dispatch_app, write_csv(tmp_path, *ROWS))
    assert "2 created, 0 updated, 0 unchanged, 2 rejected." in output
    assert "line 4: postcode: Enter a full UK postcode" in output
    assert "line 5: " in output and "dbs_checked: use yes or no" in output
    assert "Bad Postcode" not in output  # reasons only: the rows hold people's details
    asha = volunteers(dispatch_app)["asha@example.org"]
    assert (asha.phone, asha.postcode, asha.skill_names, asha.area_names) == (
        "+447700900101",
        "KT1 1EU",
        ["driving", "shopping"],
        ["KT2", "KT3"],
    )
    assert (asha.dbs_checked, asha.max_active_tasks, asha.status, asha.on_duty) == (True, 2, "active", True)


def test_the_same_file_twice_changes_nothing(dispatch_app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path, *ROWS)
    import_file(dispatch_app, path)
    before = {email: (v.name, v.skill_names, v.area_names) for email, v in volunteers(dispatch_app).items()}
    assert "0 created, 0 updated, 2 unchanged, 2 rejected." in import_file(dispatch_app, path)
    after = {email: (v.name, v.skill_names, v.area_names) for email, v in volunteers(dispatch_app).items()}
    assert after == before


def test_a_row_updates_the_volunteer_found_by_email_or_phone_and_only_what_it_gives(
    dispatch_app: Flask, tmp_path: Path
) -> None:
    import_file(dispatch_app, write_csv(tmp_path, ROWS[0]))
    paused = client_as(dispatch_app).patch(
        f"/api/v1/volunteers/{volunteers(dispatch_app)['asha@example.org'].id}", json={"status": "paused"}
    )
    assert paused.status_code == 200
    # A new email but the same phone: the same person, who moved to KT6 and stopped driving.
    moved = "Asha Patel,asha.new@example.org,07700900101,KT6 4DT,shopping,,,\n"
    assert "0 created, 1 updated" in import_file(dispatch_app, write_csv(tmp_path, moved))
    [asha] = volunteers(dispatch_app).values()
    assert (asha.email, asha.postcode, asha.district, asha.skill_names) == (
        "asha.new@example.org",
        "KT6 4DT",
        "KT6",
        ["shopping"],
    )
    assert asha.status == "paused" and asha.area_names == ["KT2", "KT3"]  # not in the row: kept


def test_the_hub_command_imports_into_the_hub_make_run_runs(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert run_hub(var, "migrate", "dispatch").returncode == 0
    path = write_csv(tmp_path, *ROWS)
    first = run_hub(var, "volunteers", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert "2 created" in first.stdout
    second = run_hub(var, "volunteers", "import", str(path))
    assert "0 created, 0 updated, 2 unchanged, 2 rejected." in second.stdout
