"""intake's own commands (`flask --app intake ...`); `hub users create` runs them."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub_shared.app import context
from hub_shared.auth import ROLES
from intake.people import PASSWORD_LINK, Refused, create_person

users = AppGroup("users", help="People who sign in.")


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--partner", help="For the partner role: the partner's id in the routing file.")
def create_command(email: str, role: str, partner: str | None) -> None:
    """Add a person and print a one-time link to set their password (its last line)."""
    hub = context()
    try:
        with hub.db.transaction() as session:
            made = create_person(session, email, role, partner)
    except Refused as exc:
        raise click.ClickException(str(exc)) from exc
    token = hub.signer.sign(PASSWORD_LINK, made.password_nonce)
    click.echo(f"Added {made.person.email} ({role}). Send them this link to set a password (3 days, once):")
    click.echo(f"{hub.settings.intake_url}/password/{token}")
