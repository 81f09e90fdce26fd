"""Deriving the review state on a busy pull request, against parsing its comments alone.

Every webhook re-derives the state from the whole timeline, so its cost must stay a small
multiple of reading the comments at all. Baseline: `commands.parse` over every comment body,
measured in the same run on the same synthetic timeline (no I/O on either side).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from bot.review.commands import parse
from bot.review.effects import plan
from bot.review.state import Comment, Push, Review, ReviewKind, Timeline, derive
from checks.config import ReviewConfig

USERS = [f"user{i}" for i in range(40)]
CONFIG = ReviewConfig(maintainers=(*USERS[:10], "org/reviewers"), approvers=tuple(USERS[10:13]),
                      triagers=tuple(USERS[13:15]))
LINES = ["/lgtm", "/lgtm cancel", "/approve", "/hold", "/hold cancel", "Thanks, looks good.", "> /lgtm",
         "```\n/approve\n```", "Please fix the third example; the answer repeats the question."]


def timeline(comments: int, seed: int = 7) -> Timeline:
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pushes = tuple(Push(f"{i:040x}", t0 + timedelta(minutes=i * comments // 5)) for i in range(5))
    items = tuple(Comment(i, rng.choice(USERS), "\n".join(rng.choices(LINES, k=4)),
                          t0 + timedelta(minutes=i, seconds=1)) for i in range(comments))
    reviews = tuple(Review(i, rng.choice(USERS), rng.choice(list(ReviewKind)), pushes[-1].sha,
                           t0 + timedelta(minutes=i, seconds=2)) for i in range(comments // 10))
    return Timeline("author", pushes[-1].sha, pushes, items, reviews)


def best_of(runs: int, work: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    def member(user: str, team: str) -> bool:  # a stand-in for the cached API lookup
        return user in USERS[20:25]

    print(f"{'comments':>8} {'parse only':>12} {'derive+plan':>12} {'ratio':>6}")
    for size in (100, 1000, 5000):
        tl = timeline(size)
        baseline = best_of(5, lambda tl=tl: [parse(c.body) for c in tl.comments])
        full = best_of(5, lambda tl=tl: plan(derive(tl, CONFIG, member), CONFIG, labels=frozenset(),
                                             triage="success"))
        print(f"{size:>8} {baseline * 1e3:>10.1f}ms {full * 1e3:>10.1f}ms {full / baseline:>6.2f}")


if __name__ == "__main__":
    main()
