"""A coordinator's actions on a request's page, as a table: what to ask for when the text is
missing (or not one of the choices), and the use case that carries it out. No Flask here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub_shared.bus import Bus
from intake.models import HelpRequest
from intake.requests.enums import Ending
from intake.requests.service import CLOSE_REASONS, add_note, end, escalate, hold, log_call, merge, reopen


@dataclass(frozen=True)
class Asked:
    """What the coordinator gave: the request, their text, and who they are."""

    request_id: str
    text: str
    actor: str
    with_whom: str  # (a call's other party)


UseCase = Callable[[Session, Bus, Asked], HelpRequest]


@dataclass(frozen=True)
class Action:
    missing: str  # shown beside the field when its text is missing or not one of `choices`
    run: UseCase
    choices: Mapping[str, str] | None = None

    def accepts(self, text: str) -> bool:
        return bool(text) and (self.choices is None or text in self.choices)


ACTIONS: dict[str, Action] = {
    "note": Action("Write the note", lambda s, bus, a: add_note(s, a.request_id, a.text, a.actor)),
    "call": Action(
        "Say what was said or agreed",
        lambda s, bus, a: log_call(s, a.request_id, a.with_whom, a.text, a.actor),
    ),
    "escalate": Action(
        "Say why it needs a coordinator", lambda s, bus, a: escalate(s, bus, a.request_id, a.text, a.actor)
    ),
    "hold": Action("Say why it is on hold", lambda s, bus, a: hold(s, bus, a.request_id, a.text, a.actor)),
    "close": Action(
        "Choose why it is closed",
        lambda s, bus, a: end(s, bus, a.request_id, Ending.close, CLOSE_REASONS[a.text], a.actor),
        choices=CLOSE_REASONS,
    ),
    "cancel": Action(
        "Say why it is cancelled",
        lambda s, bus, a: end(s, bus, a.request_id, Ending.cancel, a.text, a.actor),
    ),
    "reopen": Action(
        "Say why it is reopened", lambda s, bus, a: reopen(s, bus, a.request_id, a.text, a.actor)
    ),
    "merge": Action(
        "Give the reference of the request to keep",
        lambda s, bus, a: merge(s, bus, a.request_id, a.text, a.actor),
    ),
}
