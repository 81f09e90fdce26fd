"""Pick the checkpoint that learned the branch: the last phase's checkpoints scored on held-out questions.

Training keeps the adapter of every checkpoint of its last phase (`training/candidates/step-N`).
Each is loaded on the base student and answers the taxonomy's held-out questions greedily (never
trained on; no probe rows); the mean fact recall of its answers (`pipeline.evaluate.correctness`,
the gate's score) is its score (cheap: no judge). The best checkpoint (ties: the later one) becomes
`training/adapter` and `training/model`; `training.selection` in build.json lists every score. The gate later scores on
the same questions, so its interval is measured after this choice among a few checkpoints: read it
as slightly optimistic (docs/build.md, "Checkpoint selection").
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Scorer = Callable[[Sequence[dict[str, str]], Sequence[str]], list[float]]  # (items, answers) -> scores


def candidates(training_dir: Path) -> list[tuple[int, Path]]:
    """(global step, adapter folder) of the kept last-phase checkpoints, in step order."""
    from pipeline.train.stage import candidates_dir

    root = candidates_dir(training_dir)
    found = [(int(p.name.split("-", 1)[1]), p) for p in root.glob("step-*") if (p / "adapter_config.json").is_file()]
    return sorted(found)


def score_candidate(student: str, adapter: Path, items: Sequence[dict[str, str]], *, max_new_tokens: int,
                    scorer: Scorer) -> float:
    from peft import PeftModel

    from pipeline.evaluate.stage import answers_of
    from pipeline.models import load_student

    base, tokenizer = load_student(student)
    model = PeftModel.from_pretrained(base, str(adapter))
    answers = answers_of(model, tokenizer, items, max_new_tokens=max_new_tokens)
    scores = scorer(items, answers)
    return round(sum(scores) / len(scores), 4)


def _installed(training: Path, adapter: Path) -> bool:
    """Whether `training/adapter` already holds this candidate's weights (the final one, after training)."""
    name = "adapter_model.safetensors"
    current = training / "adapter" / name
    return current.is_file() and current.read_bytes() == (adapter / name).read_bytes()


def select_checkpoint(build_dir: Path, config: Any, *, max_new_tokens: int = 48,
                      scorer: Scorer | None = None) -> dict[str, Any]:
    """Score every candidate, install the best as the build's adapter and merged model; the report section."""
    from checks.embeddings import comparable
    from pipeline.evaluate.stage import branch_items, fact_scores
    from pipeline.train.stage import merge_adapter

    training = Path(config.output_dir)
    found = candidates(training)
    items = branch_items(build_dir)
    if len(found) < 2 or not items:
        why = "fewer than two last-phase checkpoints" if len(found) < 2 else "no held-out question"
        return {"chosen": found[-1][0] if found else None, "candidates": [], "skipped": why}
    scored = [{"step": step, "facts": score_candidate(config.student, path, items, max_new_tokens=max_new_tokens,
                                                      scorer=scorer or fact_scores)} for step, path in found]
    # Rounded before comparing, as every score that decides something: the last bits of a CPU never pick.
    best = max(scored, key=lambda c: (float(comparable(c["facts"])), c["step"]))
    final = found[-1][0]
    adapter = dict(found)[best["step"]]
    if not _installed(training, adapter):
        merged = merge_adapter(config.student, adapter)
        for folder in ("adapter", "model"):
            shutil.rmtree(training / folder, ignore_errors=True)
        shutil.copytree(adapter, training / "adapter")
        from pipeline.models import load_tokenizer

        tokenizer = load_tokenizer(config.student)
        merged.save_pretrained(training / "model")
        tokenizer.save_pretrained(training / "model")
        tokenizer.save_pretrained(training / "adapter")
    return {"metric": "facts", "questions": len(items), "max_new_tokens": max_new_tokens,
            "candidates": scored, "chosen": best["step"], "final": final, "replaced_final": best["step"] != final}
