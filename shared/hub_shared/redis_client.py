"""The hub's own use of Redis (beside Celery's): the SMS rate limiter and the workers' canary."""

from __future__ import annotations

import redis


def redis_client(url: str) -> redis.Redis:
    """A Redis client for the broker's URL (kombu's redis+socket:// is redis-py's unix://)."""
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
