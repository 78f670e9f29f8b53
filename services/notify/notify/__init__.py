"""notify: owns notifications. Workers turn events into messages, record each, and send it
once; the web app shows the log and the dev outbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    """The service's Flask app (gunicorn's `notify:create_app()`). Imported here lazily, so that
    importing a use case (`notify.<module>`) loads neither Flask nor Celery."""
    from notify.app import create_app as build

    return build(env)
