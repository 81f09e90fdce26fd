"""Mixing: phase 1 (knowledge), phase 2 (skills plus replay), the held-out seeds and the recipe.

Rows are messages JSONL: `{"messages": [...], "metadata": {"leaf", "flow", "source"}}`. Phase 2
replays a share of phase 1 and a share of earlier builds' own (non-replayed) rows for leaves still
in the taxonomy; choices are seeded so the same inputs mix the same way.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.files import read_jsonl, write_json_atomic, write_jsonl
from pipeline.generate.prompts import user_turn
from pipeline.leaves import Leaf

DATA_DIR = "data"
FRESH_SOURCES = ("generated", "seed")


def to_row(sample: dict[str, str], leaf: str, flow: str, source: str) -> dict[str, Any]:
    user = user_turn(sample["question"], sample.get("context"))
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": sample["answer"]}],
            "metadata": {"leaf": leaf, "flow": flow, "source": source}}


def leaf_rows(leaf: Leaf, generated: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """A leaf's training rows: its kept seed examples, then its generated samples."""
    seeds = [to_row(s.to_dict(), leaf.path, "seed", "seed") for s in leaf.seeds]
    return seeds + [to_row(s, leaf.path, leaf.flow, "generated") for s in generated]


def _share(rows: Sequence[dict[str, Any]], share: float, rng: random.Random) -> list[dict[str, Any]]:
    count = min(len(rows), round(len(rows) * share))
    return rng.sample(list(rows), count) if count else []


def previous_rows(build_dir: Path, leaves: set[str]) -> tuple[str, list[dict[str, Any]]]:
    """An earlier build's own rows (no replays of replays) for leaves still used; its id is its folder name."""
    rows = []
    for phase in ("phase1.jsonl", "phase2.jsonl"):
        path = build_dir / DATA_DIR / phase
        if path.exists():
            rows += [r for r in read_jsonl(path)
                     if r.get("metadata", {}).get("source") in FRESH_SOURCES and r["metadata"].get("leaf") in leaves]
    if not rows and not (build_dir / DATA_DIR).is_dir():
        raise ValueError(f"{build_dir}: not a build folder (no {DATA_DIR}/phase1.jsonl or phase2.jsonl)")
    return build_dir.resolve().name, rows


def _summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {"rows": len(rows),
            "by_source": dict(Counter(r["metadata"]["source"] for r in rows)),
            "by_flow": dict(Counter(r["metadata"]["flow"] for r in rows)),
            "by_leaf": dict(Counter(r["metadata"]["leaf"] for r in rows))}


def evaluation_rows(leaf: Leaf, generated: Sequence[dict[str, str]], thin_heldout: int, seed: int
                    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(held-out rows, generated samples left for training) of one leaf.

    A leaf with held-out seeds is evaluated on them (`origin: seed`). A thin leaf holds out no seed: up
    to `thin_heldout` of its kept generated samples (judged by the teacher, never trained on) are its
    held-out rows (`origin: generated`), and its seeds, trained on, are asked again as `origin: learned`
    rows that the evaluation reports apart (they show what was learned, not what generalises)."""
    rows = [{"leaf": leaf.path, "origin": "seed", **s.to_dict()} for s in leaf.heldout]
    if leaf.thin is None:
        return rows, list(generated)
    order = list(range(len(generated)))
    random.Random(f"{seed}:{leaf.path}:heldout").shuffle(order)
    held = set(order[:thin_heldout])
    rows += [{"leaf": leaf.path, "origin": "generated", **generated[i]} for i in sorted(held)]
    rows += [{"leaf": leaf.path, "origin": "learned", **s.to_dict()} for s in leaf.seeds]
    return rows, [sample for i, sample in enumerate(generated) if i not in held]


def mix(build_dir: Path, leaves: Sequence[Leaf], generated: dict[str, list[dict[str, str]]], *,
        replay_phase1: float, replay_previous: float, previous: Sequence[Path] = (), seed: int = 0,
        thin_heldout: int = 1) -> dict[str, Any]:
    """Write phase1.jsonl, phase2.jsonl, heldout.jsonl and recipe.json; return the recipe."""
    rng = random.Random(seed)
    phase1: list[dict[str, Any]] = []
    phase2: list[dict[str, Any]] = []
    heldout: list[dict[str, str]] = []
    for leaf in leaves:
        held, trained = evaluation_rows(leaf, generated.get(leaf.path, []), thin_heldout, seed)
        (phase1 if leaf.flow == "knowledge" else phase2).extend(leaf_rows(leaf, trained))
        heldout.extend(held)
    replay = [{**r, "metadata": {**r["metadata"], "source": "replay:phase1"}}
              for r in _share(phase1, replay_phase1, rng)]
    earlier: dict[str, int] = {}
    names = {leaf.path for leaf in leaves}
    for build in previous:
        build_id, rows = previous_rows(Path(build), names)
        chosen = _share(rows, replay_previous, rng)
        earlier[build_id] = len(chosen)
        replay += [{**r, "metadata": {**r["metadata"], "source": f"replay:build:{build_id}"}} for r in chosen]
    phase2 += replay
    data = Path(build_dir) / DATA_DIR
    data.mkdir(parents=True, exist_ok=True)
    write_jsonl(data / "phase1.jsonl", phase1)
    write_jsonl(data / "phase2.jsonl", phase2)
    write_jsonl(data / "heldout.jsonl", heldout)
    recipe = {
        "phase1": _summary(phase1),
        "phase2": _summary(phase2),
        "heldout": {"rows": len(heldout), "by_leaf": dict(Counter(h["leaf"] for h in heldout)),
                    "by_origin": dict(Counter(h["origin"] for h in heldout))},
        "replay": {"phase1_share": replay_phase1, "phase1_rows": sum(1 for r in replay
                                                                      if r["metadata"]["source"] == "replay:phase1"),
                   "previous_share": replay_previous, "previous_builds": earlier},
        "seed": seed,
    }
    write_json_atomic(data / "recipe.json", recipe)
    return recipe
