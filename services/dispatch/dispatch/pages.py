"""What dispatch's pages share: the page that says why something cannot be done, the ids in
signed links, and marshmallow's messages for a form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import render_template

from hub_shared.app import context
from hub_shared.errors import NotFound
from hub_shared.tokens import ExpiredLink, InvalidLink

LINK_MAX_AGE = int(timedelta(days=30).total_seconds())  # the offer's own state decides sooner


def closed(reason: str, status: int) -> tuple[str, int]:
    """A page that says, in one sentence, why (also every NotFound or Conflict's page here)."""
    return render_template("closed.html", reason=reason), status


def id_from_link(purpose: str, token: str, max_age: int, *, expired: str = "This link has expired.") -> str:
    """The id a signed link carries; NotFound (a 404 page saying why) if it is altered or too old."""
    try:
        return context().signer.verify(purpose, token, max_age_seconds=max_age)
    except ExpiredLink as exc:
        raise NotFound(expired) from exc
    except InvalidLink as exc:
        raise NotFound("This link is not valid. Check it was copied in full.") from exc


def first(messages: Any) -> str:
    """marshmallow's first message for a field (lists may nest per item)."""
    while isinstance(messages, (list, dict)):
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    return str(messages)
