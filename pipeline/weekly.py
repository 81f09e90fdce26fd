"""The weekly build's stages as plain functions: generate, train, evaluate, publish.

`pipeline.cli` turns each into `taxonomist build generate|train|evaluate|publish`, and the whole
`taxonomist build` calls these functions one after the other (never the typer commands). Every
stage gets the same `BuildContext` (the cache folder and the converted-model cache), so `--cache`
reaches generation, training and evaluation alike. Each stage reads what the earlier ones left in
the build folder and adds its own sections to `build.json` (through `pipeline.publish.report`), including
its wall time under `stages` and its peak resident memory under `memory` (`measured_stage`).

Before a stage starts, its need (its peak on the last run of the same taxonomy with this cache,
remembered in the cache folder with the limit it ran under, less what the stage's batches shrink by
under a smaller limit: `need_under`) is held against the machine's limit (`pipeline.memory.memory_limit`):
a stage that cannot fit stops the build with what it needs and what to change, before it starts,
so the finished stages stay for the next run instead of being lost to the OOM killer.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.evaluate.gate import GateSettings
from pipeline.files import training_dir, write_json_atomic
from pipeline.memory import MemoryBudgetError, PeakMemory, memory_limit, return_freed
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

    @property
    def memory_history(self) -> Path:
        """Each stage's peak on its last run, per taxonomy: what the next run of that stage needs."""
        return self.cache / "memory-history.json"

    def needs(self) -> dict[str, tuple[int, int | None]]:
        """Per stage and taxonomy: (its peak, the memory limit it ran under; None from an older release)."""
        try:
            data = json.loads(self.memory_history.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        found: dict[str, tuple[int, int | None]] = {}
        for key, value in (data.items() if isinstance(data, dict) else ()):
            if isinstance(value, int):
                found[key] = (value, None)
            elif isinstance(value, dict) and isinstance(value.get("peak"), int):
                found[key] = (value["peak"], value["limit"] if isinstance(value.get("limit"), int) else None)
        return found

    def remember_need(self, key: str, peak: int, limit: int | None = None) -> None:
        self.memory_history.parent.mkdir(parents=True, exist_ok=True)
        known = {k: {"peak": p, "limit": lim} for k, (p, lim) in self.needs().items()}
        write_json_atomic(self.memory_history, {**known, key: {"peak": peak, "limit": limit}})


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
    with measured_stage(build_dir, "generate", context, taxonomy=str(Path(taxonomy).resolve()), timed=False):
        return generate(taxonomy, build_dir, context.cache, settings, ref=ref, previous=previous,
                        model_cache=context.model_cache, progress=progress)


MB = 1024 * 1024
WHAT_TO_CHANGE = {  # per stage: the settings that lower its peak
    "generate": "lower generate.teacher.concurrency (--concurrency) or serve the teacher elsewhere (--teacher URL)",
    "train": "lower train.micro_batch_size, turn on train.activation_checkpointing, or train on a GPU runner",
    "evaluate": "use no in-process judge (--judge none) or a judge server (--judge URL)",
    "publish": "free memory on this machine",
}


def fitted_bytes(stage: str, limit: int) -> int:
    """The part of a stage's memory it sizes to the limit: the teacher's and the evaluation's batch
    caches (`pipeline.generate.decoding.budget_bytes`), training's activations per forward pass."""
    if stage in ("generate", "evaluate"):
        from pipeline.generate.decoding import budget_bytes

        return budget_bytes(limit)
    if stage == "train":
        from pipeline.train.stage import activation_budget

        return activation_budget(limit)
    return 0


def need_under(stage: str, peak: int, ran_under: int | None, limit: int) -> int:
    """What a stage that peaked at `peak` under the limit `ran_under` needs under `limit`: the same, less
    (or more) what its batches fit to the other limit."""
    if ran_under is None:
        return peak
    return peak - fitted_bytes(stage, ran_under) + fitted_bytes(stage, limit)


def _gb(size: int) -> str:
    return f"{size / 1024 ** 3:.1f} GB"


@contextmanager
def measured_stage(build_dir: Path, name: str, context: BuildContext, *, taxonomy: str | None = None,
                   timed: bool = True) -> Iterator[None]:
    """Run a stage within the memory budget; record its peak resident memory (and, when `timed`, its
    wall time; generation records its own sub-stages' times) in build.json."""
    build_dir = Path(build_dir)
    taxonomy = taxonomy or read_report(build_dir).get("taxonomy", {}).get("path") or "?"
    key = f"{name} {taxonomy}"
    limit, known = memory_limit(), context.needs().get(key)
    need = None if known is None else need_under(name, *known, limit.bytes)
    if need is not None and need > limit.bytes:
        raise MemoryBudgetError(
            f"the {name} stage needs about {_gb(need)} (its peak on the last run of this taxonomy, its batches "
            f"fitted to this limit), more than the "
            f"{_gb(limit.bytes)} this machine allows ({limit.source}); to fit: {WHAT_TO_CHANGE[name]}, or run on a "
            f"machine with more memory. Nothing of this stage was started; the finished stages are kept in "
            f"{build_dir}, so the same command goes on from here")
    start = time.perf_counter()
    with PeakMemory() as peak:
        yield
        gc.collect()  # the stage's models and batches, freed before the next stage starts ...
        return_freed()  # ... and their pages handed back, not kept in this process's heaps
    seconds = round(time.perf_counter() - start, 3)
    report = read_report(build_dir)
    stages_mb = {**report.get("memory", {}).get("stages_mb", {}), name: round(peak.peak_bytes / MB)}
    sections: dict[str, Any] = {"memory": {"stages_mb": stages_mb, "peak_mb": max(stages_mb.values()),
                                           "limit_mb": round(limit.bytes / MB), "limit_source": limit.source}}
    if timed:
        sections["stages"] = {**report.get("stages", {}), name: seconds}
    update_report(build_dir, sections)
    context.remember_need(key, peak.peak_bytes, limit.bytes)


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
    with measured_stage(build_dir, "train", context):
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
    with measured_stage(build_dir, "evaluate", context):
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


def run_publish(build_dir: Path, dest: Path | None, force: bool, context: BuildContext | None = None) -> Path:
    from pipeline.publish.stage import publish

    with measured_stage(build_dir, "publish", context or BuildContext.default()):
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
