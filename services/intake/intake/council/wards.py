"""The ward lookup from a CSV file: `postcode,ward` (a header row; other columns are ignored,
so a council's own extract of the ONS postcode directory with ward names will do). Every row is
checked first; a file with any bad row changes nothing. Importing again replaces the wards of
the postcodes it names and places every request again. No Flask here."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub_shared.schemas import normalise_postcode
from intake.models import HelpRequest, WardLookup


@dataclass(frozen=True)
class Imported:
    postcodes: int
    requests_placed: int  # requests now in a known ward


class BadFile(ValueError):
    """The file cannot be imported; the message names the lines."""


def read(lines: Iterable[str]) -> dict[str, str]:
    reader = csv.DictReader(lines)
    if not reader.fieldnames or not {"postcode", "ward"} <= {f.strip().lower() for f in reader.fieldnames}:
        raise BadFile("The first line must name the columns, with at least: postcode,ward")
    wards: dict[str, str] = {}
    errors = []
    for row in reader:
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        try:
            postcode = normalise_postcode(values["postcode"])
        except ValueError:
            errors.append(f"line {reader.line_num}: not a UK postcode")
            continue
        if not values["ward"] or len(values["ward"]) > 120:
            errors.append(f"line {reader.line_num}: give the ward's name (at most 120 characters)")
            continue
        wards[postcode] = values["ward"]
    if errors:
        raise BadFile(
            "Nothing was imported. " + "; ".join(errors[:20]) + ("; ..." if len(errors) > 20 else "")
        )
    return wards


def import_wards(session: Session, wards: dict[str, str]) -> Imported:
    for postcode, ward in wards.items():
        session.merge(WardLookup(postcode=postcode, ward=ward))
    session.flush()
    lookup = select(WardLookup.ward).where(WardLookup.postcode == HelpRequest.requester_postcode)
    session.execute(update(HelpRequest).values(ward=lookup.scalar_subquery()))
    placed = session.scalar(select(func.count()).where(HelpRequest.ward.is_not(None))) or 0
    return Imported(postcodes=len(wards), requests_placed=placed)


def ward_of(session: Session, postcode: str) -> str | None:
    return session.scalar(select(WardLookup.ward).where(WardLookup.postcode == postcode))
