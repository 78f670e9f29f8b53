"""The hub's own use of Redis (beside Celery's): the SMS rate limiter and the workers' canary.

`REDIS_URL` is a Redis URL (`redis://`, `rediss://`, or kombu's `redis+socket://` for a unix
socket), or, for Redis under Sentinel, the sentinels as kombu writes them:
`sentinel://host:26379;sentinel://host2:26379;...`, with the primary's name in
`HUB_REDIS_SENTINEL_MASTER`. Celery and this client then ask the sentinels for the primary, and
ask again after a failover.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
from redis.sentinel import Sentinel

TIMEOUTS = {"socket_timeout": 5, "socket_connect_timeout": 2}


def is_sentinel(url: str) -> bool:
    return url.startswith("sentinel://")


def sentinels(url: str) -> list[tuple[str, int]]:
    """The sentinels' addresses in `sentinel://h:p;sentinel://h:p`."""
    found = []
    for part in filter(None, (p.strip() for p in url.split(";"))):
        address = urlsplit(part)
        if address.scheme != "sentinel" or not address.hostname:
            raise ValueError(f"not a sentinel address: {part!r}")
        found.append((address.hostname, address.port or 26379))
    return found


def redis_client(url: str, sentinel_master: str = "mymaster") -> redis.Redis:
    """A Redis client for the broker's URL (kombu's redis+socket:// is redis-py's unix://)."""
    if is_sentinel(url):
        return Sentinel(sentinels(url), sentinel_kwargs=TIMEOUTS, **TIMEOUTS).master_for(sentinel_master)
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, **TIMEOUTS)
