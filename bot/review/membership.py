"""Team membership for `org/team` entries in the review roles, cached briefly across jobs.

`derive` asks `is_member(user, "org/team")` at most once per pair per run; this cache spares the
API across runs (a busy PR gets a comment a minute). Kept short so a person removed from a team
loses the right within minutes. A lookup that fails raises: the job is retried, never treated
as "not a member" (that would post wrong refusals) nor as "member" (that would fail open).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.review.state import Membership

DEFAULT_TTL_S = 300.0


class TeamCache:
    """Answers kept `ttl_s` seconds, shared by the jobs of one process; safe across threads."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def membership(self, fetch: Callable[[str, str], bool]) -> Membership:
        """A `Membership` answering from the cache, asking `fetch(user, team)` on a miss."""

        def is_member(user: str, team: str) -> bool:
            key = (user.lower(), team.lower())
            now = self._clock()
            with self._lock:
                cached = self._answers.get(key)
            if cached is not None and now - cached[0] < self._ttl_s:
                return cached[1]
            answer = bool(fetch(user, team))
            with self._lock:
                self._answers[key] = (now, answer)
            return answer

        return is_member
