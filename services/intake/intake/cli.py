"""intake's own commands (`flask --app intake ...`); `hub users create` runs them."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from hub_shared.auth import ROLES
from intake.bootstrap import intake
from intake.council.wards import BadFile, import_wards, read
from intake.models import ApiToken
from intake.people.service import Refused, create_person, issue_token, revoke_token

users = AppGroup("users", help="People who sign in.")


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--partner", help="For the partner role: the partner's id in the routing file.")
def create_command(email: str, role: str, partner: str | None) -> None:
    """Add a person and print a one-time link to set their password (its last line)."""
    hub = intake()
    try:
        made = hub.uow.run(create_person, hub.bus, email, role, partner)
    except Refused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Added {made.person.email} ({role}). Send them this link to set a password (3 days, once):")
    click.echo(hub.links.set_password(made.password_nonce))


tokens = AppGroup("tokens", help="API tokens (`Authorization: Bearer <token>`).")


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True, help="Who or what the token is for, e.g. 'GoodGym referrals'.")
@click.option("--partner", help="For the partner role: the partner's id in the routing file.")
def create_token(role: str, name: str, partner: str | None) -> None:
    """Record a new API token and print it (its last line). Keep it like a password."""
    hub = intake()
    try:
        token = hub.uow.run(issue_token, hub.tokens, name=name, role=role, partner=partner)
    except Refused as exc:
        raise click.ClickException(str(exc)) from exc
    for_partner = f" for partner {partner}" if partner else ""
    click.echo(f"API token '{name}' ({role}{for_partner}); `hub token revoke` stops it:")
    click.echo(token)


@tokens.command("list")
def list_tokens() -> None:
    """The tokens issued: id, role, name, when, and whether revoked (never the tokens)."""
    with intake().db.sessions() as session:
        for t in session.scalars(select(ApiToken).order_by(ApiToken.created_at)):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            partner = f" ({t.partner})" if t.partner else ""
            click.echo(f"{t.id}  {t.role}{partner}  {t.name}  issued {t.created_at:%Y-%m-%d}  {state}")


@tokens.command("revoke")
@click.argument("token_id")
def revoke_command(token_id: str) -> None:
    """Revoke a token, by its id or the token itself, in every service (intake at once, the
    others by event within seconds)."""
    hub = intake()
    try:
        revoked = hub.uow.run(revoke_token, hub.bus, hub.tokens, token_id)
    except Refused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Revoked {revoked}.")


wards = AppGroup("wards", help="The ward lookup for the council's dashboard.")


@wards.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_wards_command(path: str) -> None:
    """Load postcode-to-ward rows from a CSV file (postcode,ward); all or nothing."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = read(file)
        done = intake().uow.run(import_wards, rows)
    except BadFile as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Imported the wards of {done.postcodes} postcodes; placed {done.requests_placed} requests again."
    )
