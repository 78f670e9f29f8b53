"""dispatch's own commands (`flask --app dispatch ...`); `hub volunteers import` runs them."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from dispatch.imports import import_volunteers, read_rows
from hub_shared.app import context

volunteers = AppGroup("volunteers", help="The volunteer registry.")


@volunteers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Create or update volunteers from a CSV file (by email or phone); report rejected rows."""
    rows = read_rows(path)
    with click.progressbar(rows, label=f"Importing {len(rows)} row(s)", show_pos=True) as bar:
        report = import_volunteers(context().db, bar)
    counts = report.counts
    click.echo(
        f"{counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['rejected']} rejected."
    )
    for line, why in report.rejected:  # the line and the reason, not the row: it has people's details
        click.echo(f"  line {line}: {why}")
