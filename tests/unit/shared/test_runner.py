"""`hub run` keeps the embedded Redis up like every other process (it was never restarted)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from hub_shared.runner import HubRunner


def test_an_embedded_redis_that_dies_is_started_again_with_what_it_held(tmp_path: Path) -> None:
    runner = HubRunner(tmp_path / "var", env={"HUB_SECRET_KEY": "unit-test-secret-0123456789"})
    redis = runner.redis
    assert redis is not None  # no REDIS_URL: the runner's own
    redis.start()
    try:
        redis.client().rpush("dispatch", "an event in flight")
        assert runner.revive_redis() is False  # alive: nothing to do
        assert redis.process is not None
        os.kill(redis.process.pid, signal.SIGKILL)
        redis.process.wait(timeout=10)
        assert runner.revive_redis() is True
        assert redis.client().lrange("dispatch", 0, -1) == [b"an event in flight"]  # its AOF
    finally:
        redis.stop()
    assert runner.revive_redis() is False  # stopped on purpose: left stopped
