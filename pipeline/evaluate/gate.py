"""The evaluation gate: may this build be published? A pure function of the per-leaf scores.

Rules:
- New and changed leaves are decided as a group: the paired improvement (after - before, per leaf)
  is resampled over leaves (a bootstrap of `resamples` draws, seeded), and the build passes this rule
  when the lower bound of the `confidence` interval of the mean improvement is above
  `min_improvement`. One or two held-out questions a leaf make a single leaf's verdict a coin flip
  (the same answer with a longer tail scores 0.80 or 0.51); the group's interval is not, and it
  still rejects a build whose leaves did not move (docs/build.md, "The gate").
- An unchanged leaf may not fall by more than `max_regression`; the replay probe (phase-1 and earlier
  builds' data replayed in phase 2) by more than `max_replay_regression`; the general probe
  (questions no taxonomy teaches, that the base model already answers) by more than
  `max_general_regression`: a build that learns its leaves by wrecking what the base model knew is
  rejected whatever its leaves say. A probe row's score is a mean over its `n` questions, so it moves
  by one answer's worth (1/n: 0.083 for the 12 general questions) when one answer changes; a margin
  finer than that would be no margin at all (one answer losing its fact would reject the build), so
  a probe row may fall by the larger of its margin and one answer's worth, and no more.
- A row without a score on the chosen metric blocks the build and says so.
Kept apart from the model code so the rules are tested on plain numbers and read in one screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

METRICS = ("facts", "similarity", "judge", "mean")
REPLAY = "(replay)"
GENERAL = "(general)"
LEARNING = ("new", "changed")


@dataclass(frozen=True, slots=True)
class GateSettings:
    metric: str = "facts"               # which score decides: fact recall (pipeline.evaluate.correctness),
    #                                     embedding similarity, judge, or the mean of similarity and judge
    min_improvement: float = 0.0        # new and changed leaves: the interval's lower bound must exceed this
    confidence: float = 0.95            # of the bootstrap interval of their mean improvement
    resamples: int = 2000               # bootstrap draws (seeded by `bootstrap_seed`: the same scores decide alike)
    bootstrap_seed: int = 0
    max_regression: float = 0.05        # unchanged leaves: after - before may not fall below -this
    max_replay_regression: float = 0.05
    max_general_regression: float = 0.05

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric: expected one of {', '.join(METRICS)}, got {self.metric!r}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence: expected a number between 0 and 1, got {self.confidence!r}")
        if self.resamples < 1:
            raise ValueError(f"resamples: expected at least 1, got {self.resamples!r}")


def score(row: dict[str, Any], side: str, metric: str) -> float | None:
    """A leaf's score on one side (`before`/`after`); judge scores are 1..5, scaled to 0..1."""
    if metric == "facts":
        return row[side].get("facts")
    similarity = row[side].get("similarity")
    judge = row[side].get("judge")
    judged = None if judge is None else (judge - 1) / 4
    if metric == "similarity":
        return similarity
    if metric == "judge":
        return judged
    present = [v for v in (similarity, judged) if v is not None]
    return sum(present) / len(present) if present else None


def bootstrap_interval(deltas: Sequence[float], *, confidence: float, resamples: int, seed: int
                       ) -> dict[str, float]:
    """The mean of the paired differences and its percentile bootstrap interval (leaves resampled with
    replacement). One leaf gives a zero-width interval at its own difference."""
    import numpy as np

    values = np.asarray(deltas, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(values), size=(resamples, len(values)))
    means = values[draws].mean(axis=1)
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return {"mean": round(float(values.mean()), 4), "low": round(float(low), 4), "high": round(float(high), 4)}


PROBES = ("replay", "general")


def _margin(row: dict[str, Any], settings: GateSettings) -> tuple[float, str]:
    """How far a row may fall, and that margin in words: a probe row at least one answer's worth."""
    status = row["status"]
    margin = round({"replay": settings.max_replay_regression,
                    "general": settings.max_general_regression}.get(status, settings.max_regression), 4)
    answers = int(row.get("n") or 0)
    one_answer = round(1 / answers, 4) if status in PROBES and answers > 0 else 0.0
    if one_answer > margin:
        return one_answer, f"one answer's worth ({one_answer} of {answers} questions)"
    return margin, f"{margin:g}"


def decide(rows: Sequence[dict[str, Any]], settings: GateSettings) -> dict[str, Any]:
    """The decision: `passed`, every reason, the group's `improvement` interval, and `rows`: copies of
    the given rows with `delta` and `verdict` (the input is left as it was). A new or changed leaf's
    verdict is `closer` or `not closer` (information: the group decides); other rows `pass` or `fail`."""
    reasons: list[str] = []
    out: list[dict[str, Any]] = []
    learning: list[float] = []
    for row in rows:
        before, after = score(row, "before", settings.metric), score(row, "after", settings.metric)
        if before is None or after is None:
            out.append({**row, "delta": None, "verdict": "unscored"})
            reasons.append(f"{row['leaf']}: no {settings.metric} score (every answer or judgement failed)")
            continue
        delta = round(after - before, 4)  # float noise of an unchanged answer is no improvement
        if row["status"] in LEARNING:
            learning.append(delta)
            verdict = "closer" if delta > 0 else "not closer"
        else:
            margin, said = _margin(row, settings)
            verdict = "pass" if delta >= -margin else "fail"
            if verdict == "fail":
                reasons.append(f"{row['leaf']} ({row['status']}): {settings.metric} {before:.3f} -> {after:.3f}, "
                               f"may not fall by more than {said}")
        out.append({**row, "delta": delta, "verdict": verdict})
    improvement: dict[str, Any] | None = None
    if learning:
        interval = bootstrap_interval(learning, confidence=settings.confidence, resamples=settings.resamples,
                                      seed=settings.bootstrap_seed)
        improvement = {"leaves": len(learning), "closer": sum(1 for d in learning if d > 0), **interval,
                       "confidence": settings.confidence, "resamples": settings.resamples,
                       "passed": interval["low"] > settings.min_improvement}
        if not improvement["passed"]:
            reasons.insert(0, f"new and changed leaves ({len(learning)}, {improvement['closer']} closer): mean "
                              f"{settings.metric} improvement {interval['mean']:+.3f}, {settings.confidence:.0%} "
                              f"interval [{interval['low']:+.3f}, {interval['high']:+.3f}]; its lower bound must "
                              f"be above {settings.min_improvement}")
    return {"passed": not reasons, "reasons": reasons, "improvement": improvement, "settings": asdict(settings),
            "rows": out, "counts": {verdict: sum(1 for r in out if r["verdict"] == verdict)
                                    for verdict in ("closer", "not closer", "pass", "fail", "unscored")}}
