"""intake: owns requests for help. The coordinator's form, the requests API, and each request's
status and timeline, followed from the other services' events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    """The service's Flask app (gunicorn's `intake:create_app()`). Imported here lazily, so that
    importing a use case (`intake.<module>`) loads neither Flask nor Celery."""
    from intake.app import create_app as build

    return build(env)
