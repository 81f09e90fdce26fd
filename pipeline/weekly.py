"""The weekly build's later stages as plain functions: train, evaluate, publish.

`pipeline.cli` turns these into `taxonomist build train|evaluate|publish` and runs them after
generation for the whole `taxonomist build`; each stage reads what the earlier ones left in the
build folder and adds its own sections to `build.json` (through `pipeline.report`), including its
wall time under `stages`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.gate import GateSettings
from pipeline.report import read_report, update_report
from pipeline.settings import TeacherSettings, TrainOptions


@contextmanager
def timed_stage(build_dir: Path, name: str) -> Iterator[None]:
    """Record the stage's wall time in build.json's `stages`, beside generation's."""
    start = time.perf_counter()
    yield
    stages = read_report(build_dir).get("stages", {})
    update_report(build_dir, {"stages": {**stages, name: round(time.perf_counter() - start, 3)}})


def _rows(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()) if path.is_file() else 0


def train_config(build_dir: Path, options: TrainOptions) -> Any:
    """Phases for the data generation wrote; a phase with no data is left out (e.g. no knowledge leaf)."""
    from pipeline.models import resolve_model_dir
    from pipeline.train import Phase, TrainConfig, TrainError

    data = Path(build_dir) / "data"
    candidates = [Phase("knowledge", str(data / "phase1.jsonl"), options.phase1_steps, options.phase1_lr,
                        options.phase1_warmup),
                  Phase("skills", str(data / "phase2.jsonl"), options.phase2_steps, options.phase2_lr,
                        options.phase2_warmup)]
    phases = tuple(p for p in candidates if _rows(Path(p.data)))
    if not phases:
        raise TrainError(f"{data}: neither phase1.jsonl nor phase2.jsonl has a sample; run `taxonomist build "
                         "generate` first")
    return TrainConfig(student=str(resolve_model_dir(options.student)), output_dir=str(Path(build_dir) / "training"),
                       phases=phases, lora=not options.full, batch_size=options.batch_size,
                       micro_batch_size=options.micro_batch_size, max_length=options.max_length,
                       checkpoint_every=options.checkpoint_every, seed=options.seed)


def run_train(build_dir: Path, options: TrainOptions) -> dict[str, Any]:
    from pipeline.train import launch

    with timed_stage(build_dir, "train"):
        summary = launch(train_config(build_dir, options), nproc=options.nproc)
        update_report(build_dir, {"training": summary})
    return summary


def run_evaluate(build_dir: Path, *, previous: Path | None, judge: str | None, gate: GateSettings,
                 max_new_tokens: int = 64) -> dict[str, Any]:
    """Score against the previous build's model, or the base model on a first build; then the postcheck
    (each merged PR's questions, before and after, for `announce-build`)."""
    from pipeline.evaluate import evaluate, model_of_build
    from pipeline.postcheck import postcheck
    from pipeline.teacher import make_teacher

    report = read_report(build_dir)
    with timed_stage(build_dir, "evaluate"):
        if previous is not None:
            baseline: str | Path = model_of_build(previous)
            previous_report: dict[str, Any] | None = read_report(previous)
        else:
            baseline, previous_report = report.get("training", {}).get("settings", {}).get("student", "default"), None
        client = None if judge == "none" else make_teacher(TeacherSettings(endpoint=judge or "default"))
        sections = evaluate(build_dir, baseline=baseline, previous_report=previous_report, judge=client, gate=gate,
                            max_new_tokens=max_new_tokens)
        update_report(build_dir, sections)
        update_report(build_dir, {"postcheck": postcheck(build_dir, max_new_tokens=max_new_tokens)})
    return sections


def run_publish(build_dir: Path, dest: Path | None, force: bool) -> Path:
    from pipeline.publish import publish

    with timed_stage(build_dir, "publish"):
        return publish(build_dir, dest, force=force)


def summary_line(report: dict[str, Any]) -> str:
    gate = report.get("gate", {})
    return json.dumps({"final_loss": report.get("training", {}).get("final_loss"),
                       "tokens_per_second": report.get("training", {}).get("tokens_per_second"),
                       "gate": gate.get("passed"), "reasons": gate.get("reasons", []),
                       "published": report.get("published", {}).get("path")})
