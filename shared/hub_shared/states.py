"""Statuses and the moves allowed between them, one table per aggregate.

Each service keeps its statuses as a `StrEnum` in the feature's `enums.py` (a StrEnum is its
string, so it is stored, compared and serialised as before) and its allowed moves in a
`Transitions` table beside it. Two ways to use a table:
- a person or a use case asks for a move: `table.check(current, new)` raises `IllegalMove`
  (a Conflict: 409, with a sentence) when the table does not allow it;
- an event reports something that already happened elsewhere, possibly late or twice (an
  `offer.accepted` after a withdrawal): `table.allows(current, new)` says whether to apply
  it, and a late or repeated event is ignored, never dead-lettered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from hub_shared.errors import Conflict

S = TypeVar("S", bound=StrEnum)


class IllegalMove(Conflict):
    """A status change the aggregate's table does not allow."""


class Transitions(Generic[S]):
    """The moves allowed from each status; a status not named may not move at all."""

    def __init__(self, name: str, moves: Mapping[S, Iterable[S]]) -> None:
        self.name = name
        self.moves: dict[S, frozenset[S]] = {start: frozenset(ends) for start, ends in moves.items()}

    def allows(self, current: str, new: str) -> bool:
        return any(start == current and new in ends for start, ends in self.moves.items())

    def check(self, current: str, new: str) -> None:
        if not self.allows(current, new):
            raise IllegalMove(f"A {self.name} that is {label(current)} cannot become {label(new)}.")

    def sources(self, new: S) -> frozenset[S]:
        """Every status from which `new` may be reached (for a conditional UPDATE's WHERE)."""
        return frozenset(start for start, ends in self.moves.items() if new in ends)


def label(status: str) -> str:
    """A status as a person reads it: `in_progress` is 'in progress'."""
    return str(status).replace("_", " ")
