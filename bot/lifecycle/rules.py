"""The lifecycle's decisions, pure: size labels, whom to ask for a review, what the stale clock says.

The handler (`bot.lifecycle.handler`) reads the forge and the store and applies these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from checks.config import AssignConfig, SizeConfig, StaleConfig

DAY = 86400.0
SIZE_NAMES = ("size/S", "size/M", "size/L", "size/XL")


def size_label(leaves: int, examples: int, config: SizeConfig) -> str:
    """The larger of the sizes the leaf count and the example count give."""

    def rank(value: int, bounds: Sequence[int]) -> int:
        return next((i for i, bound in enumerate(bounds) if value <= bound), len(bounds))

    return SIZE_NAMES[max(rank(leaves, config.leaves), rank(examples, config.examples))]


def pick_reviewers(candidates: Sequence[str], start: int, author: str, load: dict[str, int],
                   config: AssignConfig) -> tuple[list[str], int]:
    """Round robin from `start`: skip the author and anyone at `max_load` or more open requests.

    Returns the reviewers and where the next pick starts (just after the last one chosen)."""
    chosen: list[str] = []
    ring = list(candidates)
    nxt = start
    for step in range(len(ring)):
        i = (start + step) % len(ring)
        login = ring[i]
        if login.lower() == author.lower() or load.get(login.lower(), 0) >= config.max_load:
            continue
        chosen.append(login)
        nxt = i + 1
        if len(chosen) == config.reviewers:
            break
    return chosen, nxt % len(ring) if ring else 0


class StaleStep(StrEnum):
    NOTHING = "nothing"
    WARN = "warn"
    LABEL = "label"


@dataclass(frozen=True, slots=True)
class StaleInput:
    labels: frozenset[str]
    activity_at: float  # a person's last act on the PR
    warned_at: float | None  # when the bot warned, if it did since that activity
    build_down: bool  # the weekly build is failing or paused now
    build_back_at: float | None  # when the builds last came back after being down


def stale_step(pr: StaleInput, config: StaleConfig, now: float) -> StaleStep:
    """The next stale step for one PR. The clock counts only time with a working build: it does not
    run while the build is down, and restarts when the build comes back (nobody has to bump a PR
    because the pipeline was down)."""
    if not config.enabled or config.paused or pr.build_down:
        return StaleStep.NOTHING
    if pr.labels & {e.lower() for e in config.exempt_labels} or config.label.lower() in pr.labels:
        return StaleStep.NOTHING
    since = max(pr.activity_at, pr.build_back_at or 0.0)
    if pr.warned_at is None:
        return StaleStep.WARN if now - since >= config.warn_after_days * DAY else StaleStep.NOTHING
    since = max(pr.warned_at, pr.build_back_at or 0.0)
    return StaleStep.LABEL if now - since >= config.label_after_days * DAY else StaleStep.NOTHING
