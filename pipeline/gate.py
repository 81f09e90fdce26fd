"""The evaluation gate: may this build be published? A pure function of the per-leaf scores.

Rules (the issue's): a new or changed leaf must improve on the previous build; any other leaf may
not fall by more than `max_regression`; the replay probe (phase-1 and earlier builds' data replayed
in phase 2) may not fall by more than `max_replay_regression`; the general probe (questions no
taxonomy teaches, that the base model already answers) may not fall by more than
`max_general_regression` (catastrophic forgetting: a build that learns its leaves by wrecking what
the base model knew is rejected). Kept apart
from the model code so the rules are tested on plain numbers and read in one screen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

METRICS = ("similarity", "judge", "mean")
REPLAY = "(replay)"
GENERAL = "(general)"


@dataclass(frozen=True, slots=True)
class GateSettings:
    metric: str = "similarity"          # which score decides: embedding similarity, judge, or their mean
    min_improvement: float = 0.0        # new and changed leaves: after - before must exceed this
    max_regression: float = 0.05        # other leaves: after - before may not fall below -this
    max_replay_regression: float = 0.05
    max_general_regression: float = 0.05

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric: expected one of {', '.join(METRICS)}, got {self.metric!r}")


def score(row: dict[str, Any], side: str, metric: str) -> float | None:
    """A leaf's score on one side (`before`/`after`); judge scores are 1..5, scaled to 0..1."""
    similarity = row[side].get("similarity")
    judge = row[side].get("judge")
    judged = None if judge is None else (judge - 1) / 4
    if metric == "similarity":
        return similarity
    if metric == "judge":
        return judged
    present = [v for v in (similarity, judged) if v is not None]
    return sum(present) / len(present) if present else None


def decide(rows: list[dict[str, Any]], settings: GateSettings) -> dict[str, Any]:
    """Each row gets `delta` and `verdict`; the result says passed or not, and every reason."""
    reasons = []
    for row in rows:
        before, after = score(row, "before", settings.metric), score(row, "after", settings.metric)
        if before is None or after is None:
            row["delta"], row["verdict"] = None, "unscored"
            reasons.append(f"{row['leaf']}: no {settings.metric} score (every answer or judgement failed)")
            continue
        delta = after - before
        row["delta"] = round(delta, 4)
        if row["status"] in ("new", "changed"):
            ok = delta > settings.min_improvement
            rule = f"must improve by more than {settings.min_improvement}"
        else:
            margin = {"replay": settings.max_replay_regression,
                      "general": settings.max_general_regression}.get(row["status"], settings.max_regression)
            ok = delta >= -margin
            rule = f"may not fall by more than {margin}"
        row["verdict"] = "pass" if ok else "fail"
        if not ok:
            reasons.append(f"{row['leaf']} ({row['status']}): {settings.metric} {before:.3f} -> {after:.3f}, {rule}")
    return {"passed": not reasons, "reasons": reasons, "settings": asdict(settings),
            "counts": {verdict: sum(1 for r in rows if r["verdict"] == verdict)
                       for verdict in ("pass", "fail", "unscored")}}
