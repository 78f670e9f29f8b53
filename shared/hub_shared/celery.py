"""Celery defaults every service uses (see ENGINEERING.md's measured pitfalls for the why)."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from hub_shared.broker import release_slots_on_failed_acks
from hub_shared.canary import add_canary
from hub_shared.config import SERVICES, Settings
from hub_shared.redis_client import is_sentinel


def celery_config(settings: Settings) -> dict[str, Any]:
    # Under Sentinel, kombu asks the sentinels for this primary (and again after a failover).
    sentinel = {"master_name": settings.redis_sentinel_master} if is_sentinel(settings.redis_url) else {}
    return {
        "broker_url": settings.redis_url,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_serializer": "json",
        "task_ignore_result": True,
        # Acknowledge after the task ran, and hand it back if the worker process dies, so a
        # killed worker loses nothing. Every task is idempotent, so running twice is safe.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_transport_options": {
            "visibility_timeout": settings.visibility_timeout,
            # Look for abandoned messages every 10 s (kombu's default sweep is ~100 s).
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
        }
        | sentinel,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a worker waits out a Redis restart
        # A task under way when the broker connection drops runs to its end (its acknowledgement
        # fails; Redis hands it out again and it finds its work done). Cancelling it killed a
        # send after the mail server had the message: the fault suite saw it sent twice.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # Each worker also takes tasks sent to it alone: its canary (hub_shared.canary).
        "worker_direct": True,
        "task_default_queue": settings.service,
        "task_routes": {f"{name}.*": {"queue": name} for name in SERVICES},
        "timezone": "Europe/London",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
    }


def make_celery(settings: Settings, main: str | None = None) -> Celery:
    release_slots_on_failed_acks()
    app = Celery(main or settings.service)
    app.conf.update(celery_config(settings))
    return app


def celery_init_app(flask_app: Flask, settings: Settings) -> Celery:
    """Attach a Celery app whose tasks run inside the Flask app context (Flask's own pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    release_slots_on_failed_acks()
    app = Celery(flask_app.name, task_cls=FlaskTask)
    app.conf.update(celery_config(settings))
    add_canary(app, settings)
    app.set_default()
    flask_app.extensions["celery"] = app
    return app
