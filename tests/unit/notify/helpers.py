"""How notify's tests reach the parts an app was made with (notify.bootstrap)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from notify.audiences import CheckLink, People
from notify.bootstrap import Notify
from notify.service import Render


def parts_of(app: Flask) -> Notify:
    made: Notify = app.extensions["notify"]
    return made


def render_of(app: Flask) -> Render:
    """The app's message renderer (with its HUB_TEMPLATES_DIR, if any)."""
    return parts_of(app).renderer.render


def no_link(*_: str) -> str:
    return ""


def people(
    *,
    check_link: CheckLink = no_link,
    request_link: Callable[[str], str] = no_link,
    coordinators: tuple[str, ...] = (),
) -> People:
    """Who hears what beyond the event, with no links unless given (the handlers' tests)."""
    return People(check_link=check_link, request_link=request_link, coordinators=coordinators)
