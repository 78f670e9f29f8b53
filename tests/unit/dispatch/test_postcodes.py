"""The postcode-district directory from a CSV file: districts added or moved (a full postcode
directory averaged into districts), bad rows reported by line, everyone in a changed district
placed again; the same file twice changes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from dispatch.deps import now_utc
from dispatch.models import Job, PostcodeDistrict, Volunteer
from tests.support.hub_command import run_hub
from tests.unit.conftest import hub_of
from tests.unit.dispatch.helpers import volunteer

SHIPPED_KT1 = (51.409, -0.298)
SHIPPED_KT2 = (51.419, -0.289)
DISTRICTS = [
    "district,latitude,longitude\n",
    "KT1,51.4105,-0.3001\n",  # moved
    "KT2,51.419,-0.289\n",  # as shipped
    "ls1,53.7967,-1.5476\n",  # new (lower case is fine)
]


def write_csv(folder: Path, *lines: str, name: str = "districts.csv") -> Path:
    path = folder / name
    path.write_text("".join(lines))
    return path


def run_import(app: Flask, path: Path) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["postcodes", "import", str(path)])
    return result.exit_code, result.output


def import_file(app: Flask, path: Path) -> str:
    exit_code, output = run_import(app, path)
    assert exit_code == 0, output
    return output


def directory(app: Flask) -> dict[str, tuple[float, float]]:
    with hub_of(app).db.sessions() as session:
        return {p.district: (p.latitude, p.longitude) for p in session.scalars(select(PostcodeDistrict))}


def get_volunteer(app: Flask, volunteer_id: str) -> Volunteer:
    with hub_of(app).db.sessions() as session:
        found = session.get(Volunteer, volunteer_id)
        assert found is not None
        return found


def add_job(app: Flask, postcode: str, district: str, place: tuple[float | None, float | None]) -> str:
    """dispatch's copy of a request, as receiving request.submitted would have stored it."""
    request_id = str(uuid.uuid4())
    with hub_of(app).db.transaction() as session:
        session.add(
            Job(
                request_id=request_id,
                reference="KXT-4QM",
                status="matching",
                need="shopping",
                urgency="normal",
                requester_name="Margaret Hill",
                postcode=postcode,
                district=district,
                latitude=place[0],
                longitude=place[1],
                address="12 Example Road",
                created_at=now_utc(),
            )
        )
    return request_id


def job_place(app: Flask, request_id: str) -> tuple[float | None, float | None]:
    with hub_of(app).db.sessions() as session:
        job = session.get(Job, request_id)
        assert job is not None
        return job.latitude, job.longitude


def test_a_district_file_adds_new_districts_and_moves_known_ones(dispatch_app: Flask, tmp_path: Path) -> None:
    before = directory(dispatch_app)
    assert before["KT1"] == SHIPPED_KT1 and "LS1" not in before
    in_kt1 = volunteer(dispatch_app, postcode="KT1 1EU")
    in_kt2 = volunteer(dispatch_app, postcode="KT2 5PQ")
    job_in_kt1 = add_job(dispatch_app, "KT1 2AB", "KT1", SHIPPED_KT1)
    assert get_volunteer(dispatch_app, in_kt1).latitude_band == 5140

    output = import_file(dispatch_app, write_csv(tmp_path, *DISTRICTS))

    assert "Districts: 1 created, 1 updated, 1 unchanged; 0 row(s) rejected." in output
    assert "Placed again: 1 volunteer(s), 1 request(s)." in output
    after = directory(dispatch_app)
    assert (after["KT1"], after["KT2"], after["LS1"]) == ((51.4105, -0.3001), SHIPPED_KT2, (53.7967, -1.5476))
    assert {d: p for d, p in after.items() if d not in ("KT1", "LS1")} == {
        d: p for d, p in before.items() if d != "KT1"
    }  # districts not in the file are kept as they were
    moved = get_volunteer(dispatch_app, in_kt1)
    assert (moved.latitude, moved.longitude, moved.latitude_band) == (51.4105, -0.3001, 5141)
    kept = get_volunteer(dispatch_app, in_kt2)
    assert (kept.latitude, kept.longitude) == SHIPPED_KT2
    assert job_place(dispatch_app, job_in_kt1) == (51.4105, -0.3001)


def test_a_volunteer_and_a_request_in_an_unknown_district_are_placed_once_it_is_imported(
    dispatch_app: Flask, tmp_path: Path
) -> None:
    in_leeds = volunteer(dispatch_app, postcode="LS1 4AP")
    unplaced = get_volunteer(dispatch_app, in_leeds)
    assert (unplaced.district, unplaced.latitude, unplaced.longitude, unplaced.latitude_band) == (
        "LS1",
        None,
        None,
        None,
    )
    job_in_leeds = add_job(dispatch_app, "LS1 4AP", "LS1", (None, None))

    import_file(dispatch_app, write_csv(tmp_path, *DISTRICTS))

    placed = get_volunteer(dispatch_app, in_leeds)
    assert (placed.latitude, placed.longitude, placed.latitude_band) == (53.7967, -1.5476, 5379)
    assert job_place(dispatch_app, job_in_leeds) == (53.7967, -1.5476)
    # Matching reads the band: a request in Leeds now finds them nearby.
    with hub_of(dispatch_app).db.sessions() as session:
        near = session.scalars(select(Volunteer.id).where(Volunteer.latitude_band.in_([5378, 5379, 5380])))
        assert list(near) == [in_leeds]


def test_a_full_postcode_directory_places_each_district_at_the_mean_of_its_postcodes(
    dispatch_app: Flask, tmp_path: Path
) -> None:
    # As exported from the ONS Postcode Directory: pcds, lat, long among many other columns.
    path = write_csv(
        tmp_path,
        "pcd,pcds,dointr,doterm,lat,long,oslaua\n",
        "LS1 4AP,LS1 4AP,198001,,53.796000,-1.548000,E08000035\n",
        "LS1 1UR,ls11ur,198001,,53.798000,-1.546000,E08000035\n",
        "LS1 2AB,LS1  2AB,198001,,53.797000,-1.550000,E08000035\n",
        "KT1 1EU,KT1 1EU,198001,,51.410000,-0.300000,E09000021\n",
        "KT1 2AB,KT1 2AB,198001,,51.412000,-0.296000,E09000021\n",
        name="ONSPD.csv",
    )

    output = import_file(dispatch_app, path)

    assert "Districts: 1 created, 1 updated, 0 unchanged; 0 row(s) rejected." in output
    after = directory(dispatch_app)
    assert after["LS1"] == (pytest.approx(53.797), pytest.approx(-1.548))
    assert after["KT1"] == (pytest.approx(51.411), pytest.approx(-0.298))


def test_bad_rows_are_reported_by_line_and_none_of_them_is_stored(
    dispatch_app: Flask, tmp_path: Path
) -> None:
    districts = write_csv(
        tmp_path,
        "district,latitude,longitude\n",
        "LS1,53.7967,-1.5476\n",  # line 2: good
        "not one,53.8,-1.5\n",  # line 3
        "LS2,north,-1.55\n",  # line 4
        "LS3,53.80,12.5\n",  # line 5: longitude far east of Lowestoft
        "LS4,,\n",  # line 6
        "LS1,53.9,-1.6\n",  # line 7: LS1 again, elsewhere
        "LS5,53.8,-1.6,extra\n",  # line 8
    )
    output = import_file(dispatch_app, districts)
    assert "Districts: 1 created, 0 updated, 0 unchanged; 6 row(s) rejected." in output
    assert "  line 3: district: Enter a postcode district, like KT1\n" in output
    assert "  line 4: latitude: not a number\n" in output
    assert "  line 5: longitude: outside Great Britain and Northern Ireland (-8.7 to 2.0)\n" in output
    assert "  line 6: no coordinates" in output
    assert "  line 7: district: repeats line 2\n" in output
    assert "  line 8: row: has more cells than the header has columns\n" in output
    assert "not one" not in output and "north" not in output  # reasons, not the rows' content
    after = directory(dispatch_app)
    assert after["LS1"] == (53.7967, -1.5476)
    assert not {"LS2", "LS3", "LS4", "LS5"} & set(after)

    # A full directory: terminated or unplaced postcodes (blank, or the ONS's 99.999999) are not
    # counted in their district's mean, and a district with only those is not added.
    postcodes = write_csv(
        tmp_path,
        "pcds,lat,long\n",
        "LS6 1AA,53.8200,-1.5700\n",  # line 2: good
        "LS6 1AB,99.999999,0.000000\n",  # line 3
        "LS6 1AD,,\n",  # line 4
        "LS7 1AA,99.999999,0.000000\n",  # line 5
        "LS7 NOPE,53.83,-1.54\n",  # line 6
        "LS8 1AA,48.9,-1.5\n",  # line 7: south of the Scillies
        name="postcodes.csv",
    )
    output = import_file(dispatch_app, postcodes)
    assert "Districts: 1 created, 0 updated, 0 unchanged; 5 row(s) rejected." in output
    assert "  line 3: no coordinates (blank, or the ONS's 99.999999" in output
    assert "  line 4: no coordinates" in output
    assert "  line 5: no coordinates" in output
    assert "  line 6: pcds: Enter a full UK postcode, like KT1 1EU\n" in output
    assert "  line 7: lat: outside Great Britain and Northern Ireland (49.5 to 61.0)\n" in output
    after = directory(dispatch_app)
    assert after["LS6"] == (53.82, -1.57)
    assert not {"LS7", "LS8"} & set(after)


@pytest.mark.parametrize(
    "header",
    [
        "name,latitude,longitude\n",  # no place column
        "district,easting,northing\n",  # no coordinates
        "KT1,51.5,-0.3\n",  # no header at all
    ],
)
def test_a_wrong_header_is_one_error_and_changes_nothing(
    dispatch_app: Flask, tmp_path: Path, header: str
) -> None:
    in_leeds = volunteer(dispatch_app, postcode="LS1 4AP")
    before = directory(dispatch_app)
    exit_code, output = run_import(dispatch_app, write_csv(tmp_path, header, "LS1,53.7967,-1.5476\n"))
    assert exit_code != 0
    assert output.count("Error: ") == 1
    assert "Error: The first line must name the columns: district (or postcode" in output
    assert "  line " not in output and "Districts:" not in output
    assert directory(dispatch_app) == before
    assert get_volunteer(dispatch_app, in_leeds).latitude is None


def test_the_same_file_twice_changes_nothing(dispatch_app: Flask, tmp_path: Path) -> None:
    path = write_csv(tmp_path, *DISTRICTS, "bad,1,1\n")
    in_leeds = volunteer(dispatch_app, postcode="LS1 4AP")
    assert "1 created, 1 updated, 1 unchanged; 1 row(s) rejected." in import_file(dispatch_app, path)
    before = directory(dispatch_app)

    second = import_file(dispatch_app, path)

    assert "Districts: 0 created, 0 updated, 3 unchanged; 1 row(s) rejected." in second
    assert "Placed again: 0 volunteer(s), 0 request(s)." in second
    assert "  line 5: district: Enter a postcode district" in second
    assert directory(dispatch_app) == before
    assert get_volunteer(dispatch_app, in_leeds).latitude == 53.7967


def test_the_hub_command_imports_into_the_hub_make_run_runs(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert run_hub(var, "migrate", "dispatch").returncode == 0
    path = write_csv(tmp_path, *DISTRICTS)
    first = run_hub(var, "postcodes", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert "Districts: 1 created, 1 updated, 1 unchanged; 0 row(s) rejected." in first.stdout
    second = run_hub(var, "postcodes", "import", str(path))
    assert "Districts: 0 created, 0 updated, 3 unchanged; 0 row(s) rejected." in second.stdout
