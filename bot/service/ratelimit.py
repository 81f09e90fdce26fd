"""Pace API calls by GitHub's rate-limit headers, before the limit is hit rather than after.

Every answer carries `X-RateLimit-Remaining` and `X-RateLimit-Reset` (PyGithub keeps the last
ones on its requester). Hitting the limit costs a 403 and, past it, every job of the
installation fails until the reset; so the forge looks before each call: with plenty left it
goes on, below `slow_below` of the limit it spreads the calls left over the time to the reset,
and at `reserve` calls left it waits for the reset (kept for the calls a job in flight still
needs), or gives the job back to the queue when that wait is longer than `max_wait`.

`UserRateLimit` bounds what one person can ask of the bot (commands, `/generate`), at intake, at
zero API calls.
"""

from __future__ import annotations

import threading
import time
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


class UserRateLimit:
    """A sliding window per (repository, user): `allow` is False once `limit` came within `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, repo: str, user: str) -> bool:
        now = self.clock()
        with self._lock:
            seen = self._seen[(repo, user.lower())]
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True
