"""dispatch: owns volunteers, partners, matching, offers and referrals. Workers route each
request to volunteers or a partner group and follow up; the pages behind the links in offers
and referrals take the answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    """The service's Flask app (gunicorn's `dispatch:create_app()`). Imported here lazily, so that
    importing a use case (`dispatch.<module>`) loads neither Flask nor Celery."""
    from dispatch.app import create_app as build

    return build(env)
