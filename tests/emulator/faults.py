"""Faults a test asks the emulator to inject: error statuses, rate limits and slow answers."""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass, field
from typing import Any

KINDS = ("status", "rate_limit", "secondary_rate_limit", "delay")
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)


@dataclass
class Fault:
    """One rule: calls whose method and path match get KIND instead of (or before, for `delay`) the real answer.

    `path` is a shell-style pattern over the URL path (`*` also crosses `/`); `times` limits how
    many calls it hits (None: every call); `probability` with `seed` makes hits random but
    repeatable.
    """

    id: int
    kind: str
    method: str = "*"
    path: str = "*"
    status: int | None = None
    retry_after: int | None = None
    delay_s: float = 0.0
    message: str | None = None
    times: int | None = None
    probability: float = 1.0
    seed: int = 0
    hits: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "status" and (self.status is None or self.status < 400):
            raise ValueError("a `status` fault needs `status` of 400 or more (e.g. 500, 502, 429)")
        if self.kind == "delay" and self.delay_s <= 0:
            raise ValueError("a `delay` fault needs `delay_s` > 0")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability {self.probability} is not between 0 and 1")
        self._rng = random.Random(self.seed)

    def takes(self, method: str, path: str) -> bool:
        """Whether this call is hit; counts the hit (so call it once per call)."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", method.upper()) or not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.hits += 1
        return True

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}
