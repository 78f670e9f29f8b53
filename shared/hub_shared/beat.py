"""The hub's one Celery beat: it asks each service's worker to run its sweep.

Run with `celery -A hub_shared.beat beat`. Tasks are sent by name, so beat imports no service
code. A sweep relays what the outbox still holds, expires what is overdue and reconciles
stalled requests; driving time-based work from here (not from long countdowns) is what keeps
it safe with Redis's visibility timeout.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

from hub_shared.celery import celery_config
from hub_shared.config import SERVICES, Settings

settings = Settings.from_env("beat", os.environ)
app = Celery("beat")
app.conf.update(celery_config(settings))
app.conf.beat_schedule = {
    f"{service}-sweep": {
        "task": f"{service}.sweep",
        "schedule": settings.sweep_seconds,
        "options": {"queue": service, "expires": settings.sweep_seconds * 2},
    }
    for service in SERVICES
}

# The coordinators' daily digest, at 08:00 in London.
app.conf.timezone = "Europe/London"
app.conf.beat_schedule["notify-digest"] = {
    "task": "notify.digest",
    "schedule": crontab(hour=8, minute=0),
    "options": {"queue": "notify", "expires": 3600},
}
