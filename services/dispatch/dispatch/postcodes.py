"""The postcode-district directory from a CSV file: districts added or moved, never removed, then
everyone in a district that was added or moved is placed again, so importing the same file twice
changes nothing the second time.

Two kinds of file, told apart by their header:
- districts: district, latitude, longitude (like data/postcode_districts.csv);
- full postcodes: postcode (or the ONS Postcode Directory's pcds), latitude (lat), longitude
  (long), any other columns ignored; a district is placed at the mean of its postcodes.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from dispatch.imports import ImportReport
from dispatch.models import Job, PostcodeDistrict, Volunteer, latitude_band
from dispatch.volunteers.enums import RowOutcome
from hub_shared.schemas import normalise_postcode, postcode_district
from hub_shared.uow import UnitOfWork

# The outward code on its own (the first half of hub_shared.schemas.POSTCODE): KT1, SW1A, E14.
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
# Great Britain and Northern Ireland (Scilly to Shetland, Fermanagh to Lowestoft): a point outside
# is a typo or a swapped column, and would send matching to the wrong place.
LATITUDES = (49.5, 61.0)
LONGITUDES = (-8.7, 2.0)
ONS_NO_PLACE = 99.999999  # the latitude the ONS gives a postcode it cannot place
NO_COORDINATES = "no coordinates (blank, or the ONS's 99.999999 for a postcode it cannot place)"
DECIMALS = 6  # ~0.1 m, as the ONS gives them; rounding keeps a mean identical from run to run

PLACE_COLUMNS = ("district", "postcode", "pcds")
LATITUDE_COLUMNS = ("latitude", "lat")
LONGITUDE_COLUMNS = ("longitude", "long")


class HeaderError(ValueError):
    """The file's first line does not name the columns a directory needs."""


@dataclass(frozen=True)
class Layout:
    """Which of the file's columns hold the place and its coordinates."""

    place: str
    latitude: str
    longitude: str
    by_postcode: bool  # full postcodes, averaged into districts, rather than districts


@dataclass
class Directory:
    """What a file says: each district's place, and the rows that could not be read."""

    places: dict[str, tuple[float, float]] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


@dataclass
class DirectoryReport(ImportReport):
    relocated: Counter[str] = field(default_factory=Counter)  # volunteers, jobs placed again


def layout_of(header: Sequence[str] | None) -> Layout:
    names = {name.strip().lower(): name for name in header or []}
    place = next((n for n in PLACE_COLUMNS if n in names), None)
    latitude = next((n for n in LATITUDE_COLUMNS if n in names), None)
    longitude = next((n for n in LONGITUDE_COLUMNS if n in names), None)
    if place is None or latitude is None or longitude is None:
        # The columns it needs, not the ones it found: a file with no header starts with data.
        raise HeaderError(
            "The first line must name the columns: district (or postcode, or the ONS's pcds), "
            "latitude (or lat) and longitude (or long)."
        )
    return Layout(names[place], names[latitude], names[longitude], by_postcode=place != "district")


def read_layout(path: Path) -> Layout:
    with path.open(newline="", encoding="utf-8-sig") as file:  # spreadsheets often add a BOM
        return layout_of(csv.DictReader(file).fieldnames)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Each row with its line number, one at a time: a full directory has millions."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        for row in reader:
            yield reader.line_num, row


def count_rows(path: Path) -> int:
    """For the progress bar (lines, less the header)."""
    with path.open("rb") as file:
        return max(sum(1 for _ in file) - 1, 0)


def read_row(layout: Layout, row: dict[str, str | None]) -> tuple[str, float, float]:
    """A row's district and coordinates; ValueError saying everything wrong with it."""
    if None in row:
        raise ValueError("row: has more cells than the header has columns")
    problems: list[str] = []
    place = (row[layout.place] or "").strip().upper()
    district = ""
    if layout.by_postcode:
        try:
            district = postcode_district(normalise_postcode(place))
        except ValueError as exc:
            problems.append(f"{layout.place}: {exc}")
    elif DISTRICT.match(place):
        district = place
    else:
        problems.append(f"{layout.place}: Enter a postcode district, like KT1")
    cells = (row[layout.latitude] or "").strip(), (row[layout.longitude] or "").strip()
    latitude, longitude = number(cells[0]), number(cells[1])
    if not all(cells) or latitude == ONS_NO_PLACE:
        problems.append(NO_COORDINATES)
    else:
        problems += out_of_bounds(layout.latitude, latitude, LATITUDES)
        problems += out_of_bounds(layout.longitude, longitude, LONGITUDES)
    if problems or latitude is None or longitude is None:
        raise ValueError("; ".join(problems))
    return district, latitude, longitude


def number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def out_of_bounds(column: str, value: float | None, bounds: tuple[float, float]) -> list[str]:
    low, high = bounds
    if value is None:
        return [f"{column}: not a number"]
    if not low <= value <= high:  # NaN fails this too
        return [f"{column}: outside Great Britain and Northern Ireland ({low} to {high})"]
    return []


def read_directory(layout: Layout, rows: Iterable[tuple[int, dict[str, str | None]]]) -> Directory:
    """Every good row's district and place, a district's postcodes averaged; bad rows by line."""
    directory = Directory()
    sums: dict[str, tuple[float, float, int]] = {}  # district: latitudes, longitudes, postcodes
    given_on: dict[str, int] = {}  # a district file's line for each district
    for line, row in rows:
        try:
            district, latitude, longitude = read_row(layout, row)
        except ValueError as exc:
            directory.rejected.append((line, str(exc)))
            continue
        if not layout.by_postcode:
            if district in given_on:  # two places for one district: neither is surely right
                directory.rejected.append((line, f"{layout.place}: repeats line {given_on[district]}"))
                continue
            given_on[district] = line
        total_lat, total_lon, count = sums.get(district, (0.0, 0.0, 0))
        sums[district] = (total_lat + latitude, total_lon + longitude, count + 1)
    directory.places = {
        district: (round(lat / count, DECIMALS), round(lon / count, DECIMALS))
        for district, (lat, lon, count) in sums.items()
    }
    return directory


def import_directory(uow: UnitOfWork, directory: Directory) -> DirectoryReport:
    """Add or move each district, and place again the volunteers and jobs in those that changed:
    one transaction, so matching never sees a district moved and its people not."""
    report = DirectoryReport(rejected=directory.rejected)
    report.counts[RowOutcome.rejected] = len(directory.rejected)
    changed: dict[str, tuple[float, float]] = {}
    with uow.begin() as session:
        # The whole table: a few thousand districts cover the UK.
        known = {place.district: place for place in session.scalars(select(PostcodeDistrict))}
        for district, (latitude, longitude) in sorted(directory.places.items()):
            place = known.get(district)
            if place is None:
                session.add(PostcodeDistrict(district=district, latitude=latitude, longitude=longitude))
                report.counts[RowOutcome.created] += 1
            elif (place.latitude, place.longitude) != (latitude, longitude):
                place.latitude, place.longitude = latitude, longitude
                report.counts[RowOutcome.updated] += 1
            else:
                report.counts[RowOutcome.unchanged] += 1
                continue
            changed[district] = (latitude, longitude)
        # One UPDATE per changed district rather than an object per volunteer: the first full
        # import moves everyone. It bypasses Volunteer's @validates, so the band is set here,
        # with the same function.
        for district, (latitude, longitude) in changed.items():
            coordinates = {"latitude": latitude, "longitude": longitude}
            volunteers = update(Volunteer).where(Volunteer.district == district)
            moved = session.execute(
                volunteers.values(**coordinates, latitude_band=latitude_band(latitude)),
                execution_options={"synchronize_session": False},
            )
            jobs = session.execute(
                update(Job).where(Job.district == district).values(**coordinates),
                execution_options={"synchronize_session": False},
            )
            report.relocated["volunteers"] += moved.rowcount  # type: ignore[attr-defined]
            report.relocated["jobs"] += jobs.rowcount  # type: ignore[attr-defined]
    return report
