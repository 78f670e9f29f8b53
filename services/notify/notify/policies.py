"""When a message may go: quiet hours for texts, the backoff between attempts, and what to do
with the hub-wide send rate's answer. Plain values with the decision as a pure method (the
clock and the randomness are the caller's), so each is tested without a database or a broker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class QuietHours:
    """No texts between these London times (minutes after midnight) unless urgent. A window
    that ends when it starts ("00:00-00:00") is the whole day."""

    start: int
    end: int

    def until(self, now: datetime) -> datetime | None:
        """If `now` is in the quiet hours, when they end (UTC); else None."""
        local = now.astimezone(LONDON)
        minute = local.hour * 60 + local.minute
        if self.start < self.end:
            quiet = self.start <= minute < self.end
        else:
            quiet = minute >= self.start or minute < self.end
        if not quiet:
            return None
        ends = local.replace(hour=self.end // 60, minute=self.end % 60, second=0, microsecond=0)
        if ends <= local:
            ends += timedelta(days=1)
        return ends.astimezone(UTC)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff for transient failures: `first_seconds`, then twice as long each time
    up to an hour, each with up to a fifth more (`spread`, from 0 to 1, is the caller's random
    draw), so messages that failed together do not retry together."""

    first_seconds: float  # HUB_RETRY_SECONDS
    max_attempts: int  # the attempt that fails after these many fails the message
    longest_seconds: float = 3600.0
    jitter: float = 0.2

    def delay(self, attempts: int, *, spread: float) -> timedelta:
        """How long to wait after the `attempts`-th attempt failed."""
        delay = min(self.first_seconds * 2 ** (attempts - 1), self.longest_seconds)
        return timedelta(seconds=delay * (1.0 + self.jitter * spread))

    def gives_up(self, attempts: int, *, permanent: bool) -> bool:
        """Whether a failure ends the message: retrying cannot help, or it was the last attempt."""
        return permanent or attempts >= self.max_attempts


@dataclass(frozen=True)
class SendRate:
    """What a worker does with the hub-wide rate's answer (the seconds to wait before a text
    may go): a short wait it waits out itself; a longer one hands the message back to the
    sweep; no answer at all (the rate's Redis is down) waits rather than floods."""

    wait_in_worker: float  # seconds
    on_outage: timedelta

    def waits_here(self, wait: float) -> bool:
        return 0 < wait <= self.wait_in_worker

    def next_try(self, wait: float | None, now: datetime) -> datetime | None:
        """When to try again, or None to send now. `wait` None: the rate could not be asked."""
        if wait is None:
            return now + self.on_outage
        return now + timedelta(seconds=wait) if wait > 0 else None
