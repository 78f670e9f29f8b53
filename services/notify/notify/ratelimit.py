"""A provider-wide rate limit shared by every worker on every host: a token bucket kept in
Redis and changed by one Lua script, so taking tokens is atomic, and timed by Redis's own
clock, so hosts whose clocks differ still share one rate.

After an outage the messages waiting are sent at the provider's rate instead of all at once.
"""

from __future__ import annotations

import redis

# KEYS[1]: the bucket. ARGV: rate (tokens a second), burst (most tokens saved up), wanted.
# Returns 0 when the tokens were taken, else the seconds to wait. A message longer than the
# burst may take the bucket below zero: the debt makes the next senders wait, so the long-run
# rate holds whatever the message sizes.
TAKE = """
local rate, burst, wanted = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local needed = math.min(wanted, burst)
local wait = 0
if tokens >= needed then
  tokens = tokens - wanted
else
  wait = (needed - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class RateLimiter:
    def __init__(self, client: redis.Redis, key: str, *, per_second: float, burst: float = 1.0) -> None:
        self.client, self.key, self.per_second, self.burst = client, key, per_second, burst
        self._take = client.register_script(TAKE)

    def take(self, tokens: int) -> float:
        """Take `tokens` (an SMS's segments) if the rate allows: 0.0, else the seconds to wait."""
        return float(self._take(keys=[self.key], args=[self.per_second, self.burst, tokens]))
