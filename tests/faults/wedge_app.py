"""A Celery app made as the hub makes its own (hub_shared.celery.make_celery: the hub's broker
settings and its one change to kombu) with one task that waits until told to end, so that
test_wedge.py can end tasks at the moment Redis is paused."""

from __future__ import annotations

import time
from pathlib import Path

from hub_shared.celery import make_celery
from hub_shared.config import Settings

app = make_celery(Settings.from_env("dispatch"), main="wedge")


@app.task(name="wedge.wait_for_go")
def wait_for_go(folder: str, name: str) -> None:
    Path(folder, f"{name}.started").touch()
    while not Path(folder, "go").exists():
        time.sleep(0.05)
