"""Pace API calls by GitHub's rate-limit headers, before the limit is hit rather than after.

Every answer carries `X-RateLimit-Remaining` and `X-RateLimit-Reset` (PyGithub keeps the last
ones on its requester). Hitting the limit costs a 403 and, past it, every job of the
installation fails until the reset; so the forge looks before each call: with plenty left it
goes on, below `slow_below` of the limit it spreads the calls left over the time to the reset,
and at `reserve` calls left it waits for the reset (kept for the calls a job in flight still
needs), or gives the job back to the queue when that wait is longer than `max_wait`.

`UserRateLimit` bounds what one person can ask of the bot (commands, `/generate`), at intake, at
zero API calls. One machine: counted in the process. Several (`TAXONOMIST_QUEUE_URL` on Redis):
counted in that Redis, so N web processes behind a load balancer still allow one person `limit`, not
N times it.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
import weakref
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RESERVE = 50  # calls kept back below which the bot waits for the reset
SLOW_BELOW = 0.1  # fraction of the limit below which calls are spread out until the reset


class RateLimitDeferred(RuntimeError):
    """The rate limit resets later than the bot will sleep: the job fails and the queue retries it later."""


def pause_before_call(remaining: int, limit: int, reset_at: float, now: float, *, reserve: int = RESERVE,
                      slow_below: float = SLOW_BELOW) -> float:
    """Seconds to wait before the next call, given the last headers (`remaining` -1: none seen yet)."""
    until_reset = reset_at - now
    if remaining < 0 or limit <= 0 or until_reset <= 0:
        return 0.0  # nothing known, or the window those headers describe is over
    if remaining <= reserve:
        return until_reset + 1.0  # GitHub's reset second is whole: one more to land after it
    if remaining > limit * slow_below:
        return 0.0
    return until_reset / (remaining - reserve)


@dataclass
class RatePacer:
    """Applies `pause_before_call` to a PyGithub requester (its `rate_limiting`, `rate_limiting_resettime`)."""

    max_wait: float
    reserve: int = RESERVE
    slow_below: float = SLOW_BELOW
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def before_call(self, requester: Any) -> None:
        remaining, limit = requester.rate_limiting
        wait = pause_before_call(remaining, limit, requester.rate_limiting_resettime, self.clock(),
                                 reserve=self.reserve, slow_below=self.slow_below)
        if wait > self.max_wait:
            raise RateLimitDeferred(f"{remaining} of {limit} API calls left until the reset in {wait:.0f} s, longer "
                                    f"than max_rate_limit_wait ({self.max_wait:.0f} s): the job is retried later")
        if wait > 0:
            self.sleep(wait)


# One sliding window in Redis, atomic: drop what left the window, refuse at `limit`, else count this one.
# The time is Redis's own (machines' clocks may differ); the key expires with the window.
SLIDING_WINDOW = """
redis.replicate_commands()  -- writes after TIME: needed before Redis 7, a no-op since
local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000000 + tonumber(now[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], at, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 1
"""
USER_LIMITS: weakref.WeakSet[UserRateLimit] = weakref.WeakSet()  # `share_user_limits` moves them all to Redis


class UserRateLimit:
    """A sliding window per (repository, user): `allow` is False once `limit` came within `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._script: Any = None  # the Redis script, once shared
        USER_LIMITS.add(self)

    def share(self, client: Any) -> None:
        """Count in this Redis from now on (`redis.Redis`), with every other process that shares it."""
        self._script = client.register_script(SLIDING_WINDOW)

    def allow(self, repo: str, user: str) -> bool:
        if self._script is not None:
            return self._allow_shared(repo, user)
        now = self.clock()
        with self._lock:
            seen = self._seen[(repo, user.lower())]
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True

    def _allow_shared(self, repo: str, user: str) -> bool:
        # The key is a digest: hostile names cannot grow it or reach another key.
        digest = hashlib.sha256(f"{self.limit}/{self.window}\0{repo}\0{user.lower()}".encode(
            "utf-8", "surrogatepass")).hexdigest()
        allowed = self._script(keys=[f"taxonomist:user-limit:{digest}"],
                               args=[int(self.window * 1_000_000), self.limit, uuid.uuid4().hex])
        return bool(allowed)


def share_user_limits(redis_url: str) -> None:
    """Every per-user limit in this process counts in the Redis at `redis_url` (the queue's)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    for limit in USER_LIMITS:
        limit.share(client)
