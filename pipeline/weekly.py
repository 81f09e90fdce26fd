"""The weekly build's stages as plain functions: generate, train, evaluate, publish.

`pipeline.cli` turns each into `taxonomist build generate|train|evaluate|publish`, and the whole
`taxonomist build` calls these functions one after the other (never the typer commands). Every
stage gets the same `BuildContext` (the cache folder and the converted-model cache), so `--cache`
reaches generation, training and evaluation alike. Each stage reads what the earlier ones left in
the build folder and adds its own sections to `build.json` (through `pipeline.publish.report`), including
its wall time under `stages`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.evaluate.gate import GateSettings
from pipeline.files import training_dir
from pipeline.publish.report import read_report, update_report
from pipeline.settings import GenerateSettings, TeacherSettings, TrainSettings


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every stage shares: the cache folder (documents, generated leaves, mirrors) and the
    converted-model cache inside it."""

    cache: Path

    @property
    def model_cache(self) -> Path:
        return self.cache / "models"

    @classmethod
    def default(cls, cache: Path | None = None) -> BuildContext:
        """`cache`, else $TAXONOMIST_CACHE, else ~/.cache/taxonomist."""
        env = os.environ.get("TAXONOMIST_CACHE")
        return cls(Path(cache) if cache else Path(env) if env else Path.home() / ".cache" / "taxonomist")


def sample_mirrors(context: BuildContext) -> tuple[tuple[str, str], ...]:
    """The embedded sample taxonomy's documents repository, built locally (same commit SHA)."""
    from checks.samples import DOCUMENTS_REPO_URL, make_documents_repo

    dest = context.cache / "mirrors" / "solar-system-notes"
    if not (dest / ".git").is_dir():
        make_documents_repo(dest)
    return ((DOCUMENTS_REPO_URL, str(dest)),)


def run_generate(taxonomy: Path | None, build_dir: Path, settings: GenerateSettings, context: BuildContext, *,
                 ref: str | None = None, previous: Sequence[Path] = (), progress: bool = True) -> dict[str, Any]:
    """Generation: the taxonomy (default: the embedded sample, with its documents mirror) into data/."""
    from pipeline.generate.stage import generate
    from pipeline.models import offline_env

    offline_env()
    if taxonomy is None:
        from checks.samples import TAXONOMY_DIR

        taxonomy = TAXONOMY_DIR
        settings = dataclasses.replace(settings, mirrors=settings.mirrors + sample_mirrors(context))
    return generate(taxonomy, build_dir, context.cache, settings, ref=ref, previous=previous,
                    model_cache=context.model_cache, progress=progress)


@contextmanager
def timed_stage(build_dir: Path, name: str) -> Iterator[None]:
    """Record the stage's wall time in build.json's `stages`, beside generation's."""
    start = time.perf_counter()
    yield
    stages = read_report(build_dir).get("stages", {})
    update_report(build_dir, {"stages": {**stages, name: round(time.perf_counter() - start, 3)}})


def _rows(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()) if path.is_file() else 0


def train_config(build_dir: Path, settings: TrainSettings, context: BuildContext) -> Any:
    """Phases for the data generation wrote; a phase with no data is left out (e.g. no knowledge leaf)."""
    from pipeline.models import resolve_model_dir
    from pipeline.train.stage import Phase, TrainConfig, TrainError

    data = Path(build_dir) / "data"
    candidates = [Phase("knowledge", str(data / "phase1.jsonl"), settings.phase1_steps, settings.phase1_lr,
                        settings.phase1_warmup),
                  Phase("skills", str(data / "phase2.jsonl"), settings.phase2_steps, settings.phase2_lr,
                        settings.phase2_warmup)]
    phases = tuple(p for p in candidates if _rows(Path(p.data)))
    if not phases:
        raise TrainError(f"{data}: neither phase1.jsonl nor phase2.jsonl has a sample; run `taxonomist build "
                         "generate` first")
    return TrainConfig(**{**dataclasses.asdict(settings), "student": str(resolve_model_dir(settings.student,
                                                                                             context.model_cache)),
                          "output_dir": str(training_dir(build_dir)), "phases": phases})


def run_train(build_dir: Path, settings: TrainSettings, context: BuildContext) -> dict[str, Any]:
    from pipeline.models import offline_env
    from pipeline.train.stage import launch

    offline_env()
    with timed_stage(build_dir, "train"):
        config = train_config(build_dir, settings, context)
        summary = launch(config, nproc=settings.nproc)
        if settings.select_checkpoint and settings.lora:
            from pipeline.train.selection import select_checkpoint

            summary["selection"] = select_checkpoint(build_dir, config)
        update_report(build_dir, {"training": summary})
    return summary


def run_evaluate(build_dir: Path, context: BuildContext, *, previous: Path | None, judge: str | None,
                 gate: GateSettings, max_new_tokens: int = 64) -> dict[str, Any]:
    """Score against the previous build's model, or the base model on a first build; then the postcheck
    (each merged PR's questions, before and after, for `announce-build`)."""
    from pipeline.evaluate.postcheck import postcheck
    from pipeline.evaluate.stage import evaluate, model_of_build
    from pipeline.generate.teacher import make_teacher
    from pipeline.models import offline_env, resolve_model_dir

    offline_env()
    report = read_report(build_dir)
    with timed_stage(build_dir, "evaluate"):
        if previous is not None:
            baseline: str | Path = model_of_build(previous)
            previous_report: dict[str, Any] | None = read_report(previous)
        else:
            student = report.get("training", {}).get("settings", {}).get("student", "default")
            baseline, previous_report = resolve_model_dir(student, context.model_cache), None
        client = None if judge in (None, "none") else make_teacher(TeacherSettings(endpoint=judge),
                                                                   model_cache=context.model_cache)
        sections = evaluate(build_dir, baseline=baseline, previous_report=previous_report, judge=client, gate=gate,
                            max_new_tokens=max_new_tokens)
        update_report(build_dir, sections)
        update_report(build_dir, {"postcheck": postcheck(build_dir, max_new_tokens=max_new_tokens)})
    return sections


def run_publish(build_dir: Path, dest: Path | None, force: bool) -> Path:
    from pipeline.publish.stage import publish

    with timed_stage(build_dir, "publish"):
        return publish(build_dir, dest, force=force)


def summary_line(report: dict[str, Any]) -> str:
    gate = report.get("gate", {})
    leaves = report.get("leaves", {})
    return json.dumps({"used": len(leaves.get("used", [])), "thin": len(leaves.get("thin", [])),
                       "skipped": len(leaves.get("skipped", [])), "zero_kept": leaves.get("zero_kept", []),
                       "final_loss": report.get("training", {}).get("final_loss"),
                       "tokens_per_second": report.get("training", {}).get("tokens_per_second"),
                       "gate": gate.get("passed"), "improvement": gate.get("improvement"),
                       "reasons": gate.get("reasons", []),
                       "published": report.get("published", {}).get("path")})
