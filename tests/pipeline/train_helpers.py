"""Builders for the training, evaluation and publishing tests: a tiny student and contract-format data."""

from __future__ import annotations

import json
import random
from pathlib import Path

from pipeline.train.stage import Phase, TrainConfig

WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "sun", "star", "moon", "planet", "word",
         "meaning")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_phase_data(data_dir: Path, rows: int = 12, seed: int = 0) -> Path:
    """phase1.jsonl (knowledge) and phase2.jsonl (skills plus replay) in the build's messages format."""
    rng = random.Random(seed)
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "phase1.jsonl").open("w") as fh:
        for _ in range(rows):
            fh.write(json.dumps({"messages": [{"role": "user", "content": words(rng, 8)},
                                              {"role": "assistant", "content": words(rng, rng.randint(3, 12))}],
                                 "metadata": {"leaf": "knowledge/science/sun", "flow": "knowledge",
                                              "source": "generated"}}) + "\n")
    with (data_dir / "phase2.jsonl").open("w") as fh:
        for index in range(rows):
            source = "replay:phase1" if index % 4 == 0 else "generated"
            fh.write(json.dumps({"messages": [{"role": "system", "content": "Be brief."},
                                              {"role": "user", "content": words(rng, 5)},
                                              {"role": "assistant", "content": words(rng, rng.randint(3, 12))}],
                                 "metadata": {"leaf": "compositional_skills/writing/words", "flow": "freeform",
                                              "source": source}}) + "\n")
    return data_dir


def tiny_config(student: Path, data_dir: Path, out: Path, **changes: object) -> TrainConfig:
    """Two short phases on the tiny model: small enough for the test suite, long enough to resume mid-phase."""
    settings: dict[str, object] = {
        "student": str(student), "output_dir": str(out),
        "phases": (Phase("knowledge", str(data_dir / "phase1.jsonl"), steps=4, lr=2e-3, warmup_steps=2),
                   Phase("skills", str(data_dir / "phase2.jsonl"), steps=5, lr=2e-3, warmup_steps=2)),
        "batch_size": 4, "micro_batch_size": 2, "checkpoint_every": 3, "lora_r": 4, "threads": 1,
    }
    settings.update(changes)
    return TrainConfig(**settings)  # type: ignore[arg-type]
