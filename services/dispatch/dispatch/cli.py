"""dispatch's own commands (`flask --app dispatch ...`); `hub volunteers import` and
`hub postcodes import` run them."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from dispatch import postcodes as directory
from dispatch.imports import import_volunteers, read_rows
from dispatch.volunteers.enums import RowOutcome
from hub_shared.app import context

volunteers = AppGroup("volunteers", help="The volunteer registry.")
postcodes = AppGroup("postcodes", help="The directory of postcode districts (where each one is).")


@volunteers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Create or update volunteers from a CSV file (by email or phone); report rejected rows."""
    rows = read_rows(path)
    with click.progressbar(rows, label=f"Importing {len(rows)} row(s)", show_pos=True) as bar:
        report = import_volunteers(context().uow, bar)
    counts = report.counts
    click.echo(
        f"{counts[RowOutcome.created]} created, {counts[RowOutcome.updated]} updated, "
        f"{counts[RowOutcome.unchanged]} unchanged, {counts[RowOutcome.rejected]} rejected."
    )
    for line, why in report.rejected:  # the line and the reason, not the row: it has people's details
        click.echo(f"  line {line}: {why}")


@postcodes.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_postcodes_command(path: Path) -> None:
    """Add or move postcode districts from a CSV file (district or full postcode, with latitude and
    longitude; the ONS Postcode Directory's pcds, lat, long too) and place again the volunteers and
    requests in them; report rejected rows."""
    try:
        layout = directory.read_layout(path)  # a wrong header: one error, before anything is read
        rows = directory.count_rows(path)
        # Steps drawn in thousands: a full directory has millions of rows.
        with click.progressbar(
            directory.read_rows(path),
            length=rows,
            label=f"Reading {rows} row(s)",
            show_pos=True,
            update_min_steps=1000,
        ) as bar:
            found = directory.read_directory(layout, bar)
    except directory.HeaderError as exc:
        raise click.ClickException(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise click.ClickException("The file is not UTF-8 text: save it as CSV UTF-8.") from exc
    report = directory.import_directory(context().uow, found)
    counts, relocated = report.counts, report.relocated
    click.echo(
        f"Districts: {counts[RowOutcome.created]} created, {counts[RowOutcome.updated]} updated, "
        f"{counts[RowOutcome.unchanged]} unchanged; {counts[RowOutcome.rejected]} row(s) rejected."
    )
    click.echo(f"Placed again: {relocated['volunteers']} volunteer(s), {relocated['jobs']} request(s).")
    for line, why in report.rejected:  # the line and the reason, like the volunteers import
        click.echo(f"  line {line}: {why}")
