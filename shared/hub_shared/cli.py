"""The `hub` command: run the hub on this machine, migrate its databases, fill it with examples.

Run from the repo root with no extra environment, it acts on the hub that `make run` runs
(its state lives in ./var, or HUB_VAR_DIR).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import click
import requests

from hub_shared.config import SERVICES, base_url, var_dir
from hub_shared.runner import HubRunner

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
        click.echo(f"  Coordinator form   {runner.url('intake')}/")
        click.echo(f"  Volunteers (API)   {runner.url('dispatch')}/api/v1/volunteers")
        click.echo(f"  Dev outbox (mail)  {runner.url('notify')}/outbox")
        click.echo(f"Logs: {runner.logs}. `.venv/bin/hub seed --demo` adds examples. Ctrl-C stops.")
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


@main.command()
@click.option("--demo", is_flag=True, required=True, help="Add the example volunteers and requests.")
def seed(demo: bool) -> None:
    """Fill the running hub with example volunteers and requests (through its APIs)."""
    dispatch, intake = base_url(os.environ, "dispatch"), base_url(os.environ, "intake")
    try:
        for volunteer in DEMO_VOLUNTEERS:
            _post(f"{dispatch}/api/v1/volunteers", volunteer)
        click.echo(f"Added {len(DEMO_VOLUNTEERS)} volunteers.")
        for request in DEMO_REQUESTS:
            created = _post(f"{intake}/api/v1/requests", request)
            click.echo(f"Added a {request['need']} request: reference {created['reference']}")
    except requests.ConnectionError:
        click.echo("The hub is not running: start it with `make run` first.", err=True)
        sys.exit(1)


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(url, json=body, timeout=10)
    if response.status_code != 201:
        raise click.ClickException(f"{url} answered {response.status_code}: {response.text}")
    return response.json()


if __name__ == "__main__":
    main()
