"""When a message may go, decided without a database or a broker: the retry backoff, what a
worker does with the SMS rate's answer (quiet hours are in test_sms.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.policies import MAX_ATTEMPTS, Backoff, SendRate

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BACKOFF = Backoff(first_seconds=30.0, max_attempts=MAX_ATTEMPTS)


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (20, 3600)]
)
def test_the_wait_doubles_up_to_an_hour(attempts: int, seconds: float) -> None:
    assert BACKOFF.delay(attempts, spread=0.0) == timedelta(seconds=seconds)


def test_up_to_a_fifth_more_spreads_retries_that_failed_together() -> None:
    assert BACKOFF.delay(2, spread=1.0) == timedelta(seconds=72)
    assert BACKOFF.delay(8, spread=0.5) == timedelta(seconds=3960)


def test_the_first_wait_is_the_hubs_setting() -> None:
    assert Backoff(first_seconds=5.0, max_attempts=3).delay(2, spread=0.0) == timedelta(seconds=10)


@pytest.mark.parametrize(
    ("attempts", "permanent", "gives_up"),
    [(1, False, False), (MAX_ATTEMPTS - 1, False, False), (MAX_ATTEMPTS, False, True), (1, True, True)],
)
def test_a_failure_ends_the_message_when_retrying_cannot_help_or_it_was_the_last_attempt(
    attempts: int, permanent: bool, gives_up: bool
) -> None:
    assert BACKOFF.gives_up(attempts, permanent=permanent) is gives_up


RATE = SendRate(wait_in_worker=2.0, on_outage=timedelta(seconds=5))


@pytest.mark.parametrize(("wait", "here"), [(0.0, False), (0.5, True), (2.0, True), (2.5, False)])
def test_a_worker_waits_out_only_a_short_wait_itself(wait: float, here: bool) -> None:
    assert RATE.waits_here(wait) is here


@pytest.mark.parametrize(
    ("wait", "next_try"),
    [
        (0.0, None),  # the rate allows it now
        (30.0, NOW + timedelta(seconds=30)),  # the sweep sends it when the rate allows
        (None, NOW + timedelta(seconds=5)),  # the rate cannot be asked: wait rather than flood
    ],
)
def test_when_a_text_may_go_by_the_rate(wait: float | None, next_try: datetime | None) -> None:
    assert RATE.next_try(wait, NOW) == next_try
