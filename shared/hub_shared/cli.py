"""The `hub` command: run the hub on this machine, migrate its databases, fill it with examples.

Run from the repo root with no extra environment, it acts on the hub that `make run` runs
(its state lives in ./var, or HUB_VAR_DIR).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import click
import requests

from hub_shared.auth import ROLES, ApiTokens
from hub_shared.celery import celery_config
from hub_shared.config import SERVICES, base_url, var_dir
from hub_shared.runner import HubRunner, secret_key
from hub_shared.webhooks import partner_secret

DEMO_VOLUNTEERS: list[dict[str, Any]] = [
    {"name": "Asha Patel", "email": "asha@example.org", "phone": "07700 900101",
     "postcode": "KT1 1EU", "skills": ["shopping", "prescription_collection"], "dbs_checked": True},
    {"name": "Ben Okafor", "email": "ben@example.org", "phone": "07700 900102",
     "postcode": "KT2 5PQ", "skills": ["shopping", "driving", "dog_walking"], "dbs_checked": False},
    {"name": "Carys Evans", "email": "carys@example.org", "phone": "07700 900103",
     "postcode": "KT6 4DT", "skills": ["befriending", "shopping"], "dbs_checked": True},
    {"name": "Dev Sharma", "email": "dev@example.org", "phone": "07700 900104",
     "postcode": "KT3 3QF", "skills": ["prescription_collection", "driving"], "dbs_checked": True},
]  # fmt: skip

DEMO_REQUESTS: list[dict[str, Any]] = [
    {"requester": {"name": "Margaret Hill", "phone": "020 8547 5000", "postcode": "KT1 2AB",
                   "address": "12 Example Road, Kingston upon Thames"},
     "need": "shopping", "urgency": "normal", "details": "Weekly shop; no lactose.",
     "consent": {"data_processing": True}},
    {"requester": {"name": "Tom Reed", "phone": "07700 900201", "postcode": "KT6 5QR",
                   "address": "3 Sample Close, Surbiton"},
     "need": "prescription", "urgency": "urgent", "details": "Collect from the pharmacy.",
     "consent": {"data_processing": True}},
]  # fmt: skip


@click.group()
def main() -> None:
    """The community help hub."""


@main.command()
def run() -> None:
    """Start every service of the hub on this machine; Ctrl-C stops them all."""
    runner = HubRunner(var_dir())
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        click.echo("Starting the hub (Redis, migrations, web, workers, beat)...")
        runner.start()
        click.echo("\nThe hub is running:")
        click.echo(f"  Sign in            {runner.url('intake')}/sign-in")
        click.echo(f"  Queue              {runner.url('intake')}/queue")
        click.echo(f"  Coordinator form   {runner.url('intake')}/")
        click.echo(f"  Volunteers         {runner.url('dispatch')}/volunteers")
        click.echo(f"  Partner groups     {runner.url('dispatch')}/partners")
        click.echo(f"  Dev outbox (mail)  {runner.url('notify')}/outbox")
        click.echo(f"Logs: {runner.logs}. `.venv/bin/hub seed --demo` adds examples. Ctrl-C stops.")
        click.echo(
            "No one can sign in yet: `.venv/bin/hub users create --email you@example.org --role coordinator`"
            " prints a link to set your password."
        )
        runner.supervise(stop)
    except RuntimeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        click.echo("\nStopping the hub...")
        runner.stop()
        click.echo("Stopped.")


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def migrate(services: tuple[str, ...]) -> None:
    """Bring the databases of SERVICES (all by default) up to date."""
    from hub_shared.db import migrate as migrate_database

    var = var_dir()
    for service in services or SERVICES:
        url = os.environ.get(f"{service.upper()}_DATABASE_URL") or f"sqlite:///{var / service}.db"
        migrate_database(service, url)
        click.echo(f"{service}: up to date")


@main.group()
def volunteers() -> None:
    """The volunteer registry (dispatch's)."""


@volunteers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_volunteers(path: str) -> None:
    """Create or update volunteers from a CSV file; running it twice changes nothing."""
    run_service("dispatch", "volunteers", "import", os.path.abspath(path))


@main.group()
def postcodes() -> None:
    """The directory of postcode districts (dispatch's): where volunteers and requests are."""


@postcodes.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_postcodes(path: str) -> None:
    """Add or move postcode districts from a CSV file (districts, or full postcodes such as the ONS
    Postcode Directory); running it twice changes nothing."""
    run_service("dispatch", "postcodes", "import", os.path.abspath(path))


@main.group()
def wards() -> None:
    """The ward lookup (intake's), for the council's dashboard."""


@wards.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_wards(path: str) -> None:
    """Load which ward each postcode is in from a CSV file (postcode,ward); all or nothing."""
    run_service("intake", "wards", "import", os.path.abspath(path))


def hub_environment() -> dict[str, str]:
    """This shell's environment plus what `make run`'s hub keeps in var/ (its secret)."""
    env = dict(os.environ)
    if not env.get("HUB_SECRET_KEY"):
        env["HUB_SECRET_KEY"] = secret_key(var_dir())
    return env


def run_service(service: str, *args: str) -> None:
    """Run one of a service's own commands (`flask --app SERVICE ...`) on this hub, and exit as
    it did."""
    command = [sys.executable, "-m", "flask", "--app", service, *args]
    sys.exit(subprocess.run(command, env=hub_environment()).returncode)


@main.group()
def users() -> None:
    """People who sign in (intake's)."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--partner", help="For the partner role: the partner's id in the routing file.")
def create_user(email: str, role: str, partner: str | None) -> None:
    """Add a person and print a one-time link to set their password (its last line)."""
    run_service(
        "intake",
        "users",
        "create",
        "--email",
        email,
        "--role",
        role,
        *(["--partner", partner] if partner else []),
    )


@main.group()
def token() -> None:
    """API tokens (`Authorization: Bearer <token>`), recorded and revoked by intake."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", required=True, help="Who or what the token is for, e.g. 'GoodGym referrals'.")
@click.option("--partner", help="For the partner role: the partner's id in the routing file.")
def create_token(role: str, name: str, partner: str | None) -> None:
    """Print a new API token (its last line is the token). Keep it like a password."""
    run_service(
        "intake",
        "tokens",
        "create",
        "--role",
        role,
        "--name",
        name,
        *(["--partner", partner] if partner else []),
    )


@token.command("list")
def list_tokens() -> None:
    """The tokens issued, with their ids (never the tokens themselves)."""
    run_service("intake", "tokens", "list")


@token.command("revoke")
@click.argument("token_id")
def revoke_token(token_id: str) -> None:
    """Revoke a token (by the id `hub token list` shows) in every service."""
    run_service("intake", "tokens", "revoke", token_id)


@main.group()
def partners() -> None:
    """Partner groups (set in dispatch's routing file)."""


@partners.command("webhook-secret")
@click.argument("partner_id")
@click.option(
    "--generation", default=1, show_default=True, help="Its webhook_secret_generation in the routing file."
)
def webhook_secret(partner_id: str, generation: int) -> None:
    """Print the secret that signs PARTNER_ID's webhooks, for the partner to check them with."""
    click.echo(partner_secret(hub_environment()["HUB_SECRET_KEY"], partner_id, generation))


@main.command("dead-letters")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--replay", "replay_id", type=int, help="Send this dead letter to the service's queue again.")
def dead_letters(service: str, replay_id: int | None) -> None:
    """List a service's dead-lettered events, or replay one (after fixing its cause)."""
    from celery import Celery
    from sqlalchemy import bindparam, text

    from hub_shared.config import Settings
    from hub_shared.db import UTCDateTime, make_engine

    settings = Settings.from_env(service, hub_environment())
    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        if replay_id is None:
            letters = connection.execute(
                text("SELECT id, created_at, type, error, replayed_at FROM dead_letters ORDER BY id")
            ).all()
            for letter in letters:  # never the body: it may hold people's details
                replayed = f" (replayed {letter.replayed_at})" if letter.replayed_at else ""
                click.echo(f"{letter.id}\t{letter.created_at}\t{letter.type}\t{letter.error[:200]}{replayed}")
            click.echo(f"{len(letters)} dead letter(s) in {service}.")
            return
        body = connection.scalar(text("SELECT body FROM dead_letters WHERE id = :id"), {"id": replay_id})
        if body is None:
            raise click.ClickException(f"{service} has no dead letter {replay_id}.")
        celery = Celery("hub-cli")
        celery.conf.update(celery_config(settings))
        celery.send_task(f"{service}.handle_event", args=[json.loads(body)], queue=service)
        mark = text("UPDATE dead_letters SET replayed_at = :now WHERE id = :id").bindparams(
            bindparam("now", type_=UTCDateTime())
        )
        connection.execute(mark, {"now": datetime.now(UTC), "id": replay_id})
    click.echo(f"Sent dead letter {replay_id} to {service} again.")


@main.command()
@click.option("--demo", is_flag=True, required=True, help="Add the example volunteers and requests.")
def seed(demo: bool) -> None:
    """Fill the running hub with example volunteers and requests (through its APIs)."""
    dispatch, intake = base_url(os.environ, "dispatch"), base_url(os.environ, "intake")
    token = ApiTokens(hub_environment()["HUB_SECRET_KEY"]).issue("admin")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"  # (a token for this run only, kept nowhere)
    try:
        added = 0
        for volunteer in DEMO_VOLUNTEERS:
            added += _post(api, f"{dispatch}/api/v1/volunteers", volunteer, exists_ok=True) is not None
        click.echo(f"Added {added} volunteers ({len(DEMO_VOLUNTEERS) - added} were already there).")
        for request in DEMO_REQUESTS:
            created = _post(api, f"{intake}/api/v1/requests", request)
            click.echo(f"Added a {request['need']} request: reference {created['reference']}")
    except requests.ConnectionError:
        click.echo("The hub is not running: start it with `make run` first.", err=True)
        sys.exit(1)


def _post(api: requests.Session, url: str, body: dict[str, Any], *, exists_ok: bool = False) -> Any:
    response = api.post(url, json=body, timeout=10)
    if exists_ok and response.status_code == 409:
        return None
    if response.status_code != 201:
        raise click.ClickException(f"{url} answered {response.status_code}: {response.text}")
    return response.json()


if __name__ == "__main__":
    main()
