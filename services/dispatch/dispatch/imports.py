"""Volunteers from a spreadsheet (CSV): each row validated like the API's body, then created or
updated by email or phone, so importing the same file twice changes nothing the second time.

Columns: name, email, phone, postcode, skills, dbs_checked, dbs_expires_on, status, on_duty,
preferred_channel, continuity, max_active_tasks, max_distance_km, areas, languages. Lists (skills, areas,
languages) are separated by semicolons; yes/no, true/false or 1/0 for the flags. An empty cell
leaves that field as it is (or at its default for a new volunteer).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from dispatch.volunteers.enums import RowOutcome
from dispatch.volunteers.schemas import VolunteerIn
from dispatch.volunteers.service import upsert_volunteer
from hub_shared.uow import UnitOfWork

LIST_COLUMNS = ("skills", "areas", "languages")
FLAG_COLUMNS = ("dbs_checked", "on_duty", "continuity")
FLAGS = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)


def row_to_body(row: dict[str, str | None]) -> dict[str, Any]:
    """A CSV row as an API body: blanks dropped, lists split, flags read."""
    body: dict[str, Any] = {}
    for column, raw in row.items():
        if column is None:  # more cells than headers
            raise ValidationError({"row": ["has more cells than the header has columns"]})
        value = (raw or "").strip()
        if not value:
            continue
        key = column.strip().lower()
        if key in LIST_COLUMNS:
            body[key] = [item.strip() for item in value.split(";") if item.strip()]
        elif key in FLAG_COLUMNS:
            if value.lower() not in FLAGS:
                raise ValidationError({key: ["use yes or no"]})
            body[key] = FLAGS[value.lower()]
        else:
            body[key] = value
    return body


def describe(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(f"{key}: {describe(value)}" for key, value in messages.items())
    if isinstance(messages, list):
        return ", ".join(describe(m) for m in messages)
    return str(messages)


def read_rows(path: Path) -> list[tuple[int, dict[str, str | None]]]:
    with path.open(newline="", encoding="utf-8-sig") as file:  # spreadsheets often add a BOM
        return [(reader.line_num, row) for reader in [csv.DictReader(file)] for row in reader]


def import_volunteers(uow: UnitOfWork, rows: Iterable[tuple[int, dict[str, str | None]]]) -> ImportReport:
    """Create or update a volunteer per row, each in its own transaction, so one bad row costs
    only itself."""
    report = ImportReport()
    for line, row in rows:
        try:
            body = row_to_body(row)
            data = VolunteerIn().load(body)
        except ValidationError as exc:
            report.counts[RowOutcome.rejected] += 1
            report.rejected.append((line, describe(exc.messages)))
            continue
        with uow.begin() as session:
            report.counts[upsert_volunteer(session, data, set(body))] += 1
    return report
