"""What a use case raises when it cannot do what was asked, and how every app answers it.

Use cases raise `NotFound` or `Conflict` with a sentence for the person asking; each app
registers `answer_domain_error` once (hub_shared.web), which answers 404 or 409 as JSON on
`/api/` paths and as a page elsewhere. A view never catches these itself: where a conflict is
best shown on the form the person was filling in, the view says so with
`hub_shared.web.show_conflict_with`. Nothing here imports Flask: use cases raise these.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the hub understood but cannot carry out; the message is shown to the person."""

    code = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError, LookupError):
    """What was asked for does not exist (or is not the caller's to see)."""

    code = 404


class Conflict(DomainError):
    """It exists, but its state does not allow this now (closed, taken, no room...)."""

    code = 409
