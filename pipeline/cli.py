"""`taxonomist build ...`: the weekly build's sub-commands. Heavy imports stay inside the commands."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(name="build", help="Turn the merged taxonomy into datasets and a model build.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def default_cache() -> Path:
    """$TAXONOMIST_CACHE or ~/.cache/taxonomist: documents, generated leaves, converted models."""
    env = os.environ.get("TAXONOMIST_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "taxonomist"


def sample_mirrors(cache: Path) -> tuple[tuple[str, str], ...]:
    """The embedded sample taxonomy's documents repository, built locally (same commit SHA)."""
    from taxonomist.samples import DOCUMENTS_REPO_URL, make_documents_repo

    dest = cache / "mirrors" / "solar-system-notes"
    if not (dest / ".git").is_dir():
        make_documents_repo(dest)
    return ((DOCUMENTS_REPO_URL, str(dest)),)


@app.command("generate")
def generate_command(
    taxonomy: Path | None = typer.Argument(None, help="Taxonomy checkout (default: the embedded sample taxonomy)."),
    out: Path = typer.Option(..., "--out", help="Build folder: data/ and build.json are written there."),
    cache: Path | None = typer.Option(None, "--cache", help="Cache folder (default: $TAXONOMIST_CACHE or "
                                      "~/.cache/taxonomist)."),
    teacher: str | None = typer.Option(None, "--teacher", help="OpenAI-compatible base URL, a local model folder "
                                       "or .gguf file, or `default` (embedded SmolLM2-135M-Instruct)."),
    teacher_model: str | None = typer.Option(None, "--teacher-model", help="Model name sent to the server."),
    config: Path | None = typer.Option(None, "--config", help="YAML file with a `generate:` mapping of settings."),
    ref: str | None = typer.Option(None, "--ref", help="Git ref of the taxonomy to build (default: its default "
                                   "branch; WORKTREE: the checkout's files as they are on disk)."),
    mirror: list[str] = typer.Option([], "--mirror", help="URL=PATH: fetch a documents repository from a local "
                                     "mirror; repeatable."),
    previous: list[Path] = typer.Option([], "--previous", help="An earlier build folder to replay data from; "
                                        "repeatable."),
    schema_version: str | None = typer.Option(None, "--schema-version", help="latest|own|N for the structural "
                                              "checks (default: the taxonomy's config)."),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, help="Teacher requests in flight."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Resynthesize training data from the taxonomy, regenerating only leaves that changed."""
    from checks.config import ConfigError
    from checks.discovery import DiscoveryError
    from pipeline.documents import DocumentFetchError
    from pipeline.generate import generate
    from pipeline.leaves import TaxonomyError
    from pipeline.models import ModelError
    from pipeline.report import ReportError
    from pipeline.settings import SettingsError, load_settings, parse_mirrors

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    cache_dir = cache or default_cache()
    try:
        settings = load_settings(config)
        mirrors = settings.mirrors + parse_mirrors(mirror, "--mirror")
        if taxonomy is None:
            from taxonomist.samples import TAXONOMY_DIR

            taxonomy, mirrors = TAXONOMY_DIR, mirrors + sample_mirrors(cache_dir)
        t = settings.teacher
        t = dataclasses.replace(t, endpoint=teacher or t.endpoint, model=teacher_model or t.model,
                                concurrency=concurrency or t.concurrency)
        version = settings.schema_version if schema_version is None else (
            int(schema_version) if schema_version.isdigit() else schema_version)
        settings = dataclasses.replace(settings, teacher=t, mirrors=mirrors, schema_version=version)
        sections = generate(taxonomy, out, cache_dir, settings, ref=ref, previous=previous,
                            model_cache=cache_dir / "models", progress=progress)
    except (SettingsError, TaxonomyError, ModelError, ReportError, DocumentFetchError, ConfigError, DiscoveryError,
            ValueError, RuntimeError) as exc:
        typer.echo(f"taxonomist build generate: {exc}", err=True)
        raise typer.Exit(2) from None
    leaves, teacher_counts = sections["leaves"], sections["teacher"]
    summary = {"used": len(leaves["used"]), "skipped": len(leaves["skipped"]),
               "regenerated": len(leaves["regenerated"]), "reused": len(leaves["reused"]),
               "teacher": {k: teacher_counts[k] for k in ("requests", "failed", "retried")},
               "rows": sections["samples"]["rows"], "report": str(out / "build.json")}
    typer.echo(json.dumps(summary))


def _train_options(student: str, full: bool, phase1_steps: int, phase2_steps: int, phase1_lr: float,
                   phase2_lr: float, warmup: int, batch_size: int, micro_batch_size: int, checkpoint_every: int,
                   seed: int, nproc: int) -> Any:
    from pipeline.weekly import TrainOptions

    return TrainOptions(student=student, full=full, phase1_steps=phase1_steps, phase2_steps=phase2_steps,
                        phase1_lr=phase1_lr, phase2_lr=phase2_lr, phase1_warmup=warmup, phase2_warmup=warmup,
                        batch_size=batch_size, micro_batch_size=micro_batch_size,
                        checkpoint_every=checkpoint_every, seed=seed, nproc=nproc)


STUDENT = typer.Option("default", "--student", help="Student: a model folder, a .gguf file, or `default` "
                       "(embedded SmolLM2-135M-Instruct).")
FULL = typer.Option(False, "--full", help="Full fine-tuning instead of LoRA.")
P1_STEPS = typer.Option(20, "--phase1-steps", min=1, help="Optimizer steps of phase 1 (knowledge).")
P2_STEPS = typer.Option(20, "--phase2-steps", min=1, help="Optimizer steps of phase 2 (skills + replay).")
P1_LR = typer.Option(2e-4, "--phase1-lr", help="Phase 1 learning rate (after warm-up; constant, no decay).")
P2_LR = typer.Option(1e-4, "--phase2-lr", help="Phase 2 learning rate.")
WARMUP = typer.Option(5, "--warmup", min=0, help="Linear warm-up steps at the start of each phase.")
BATCH = typer.Option(8, "--batch-size", min=1, help="Samples per optimizer step (all processes together).")
MICRO = typer.Option(4, "--micro-batch-size", min=1, help="Samples per forward pass in one process.")
EVERY = typer.Option(10, "--checkpoint-every", min=1, help="Steps between checkpoints (also at each phase end).")
SEED = typer.Option(42, "--seed", help="Seed of the data order, the adapter's init and dropout.")
NPROC = typer.Option(1, "--nproc", min=1, help="Processes: >1 launches torchrun (CPU, gloo) or accelerate "
                     "with FSDP (CUDA, NCCL; pipeline/configs/fsdp-gpu.yaml).")
PREVIOUS_BUILD = typer.Option(None, "--previous-build", help="The previous build folder to compare with "
                              "(default: the base model, as for a first build).")
JUDGE = typer.Option(None, "--judge", help="Judge: OpenAI-compatible URL, model folder, `default` (SmolLM2), "
                     "or `none` (embedding similarity only).")
METRIC = typer.Option("similarity", "--gate-metric", help="What the gate decides on: similarity|judge|mean.")
MARGIN = typer.Option(0.05, "--max-regression", help="How far an unchanged leaf, the replay set or the "
                      "general questions may fall.")


def _fail(command: str, exc: Exception) -> None:
    typer.echo(f"taxonomist build {command}: {exc}", err=True)
    raise typer.Exit(2) from None


@app.command("train")
def train_command(
    build_dir: Path = typer.Argument(..., help="Build folder with data/phase1.jsonl and data/phase2.jsonl."),
    student: str = STUDENT, full: bool = FULL, phase1_steps: int = P1_STEPS, phase2_steps: int = P2_STEPS,
    phase1_lr: float = P1_LR, phase2_lr: float = P2_LR, warmup: int = WARMUP, batch_size: int = BATCH,
    micro_batch_size: int = MICRO, checkpoint_every: int = EVERY, seed: int = SEED, nproc: int = NPROC,
) -> None:
    """Train phase 1 then phase 2 (resuming from the last checkpoint if a run was cut short)."""
    from pipeline.models import ModelError
    from pipeline.train import TrainError
    from pipeline.train_data import DataError
    from pipeline.weekly import run_train

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        summary = run_train(build_dir, _train_options(student, full, phase1_steps, phase2_steps, phase1_lr,
                                                      phase2_lr, warmup, batch_size, micro_batch_size,
                                                      checkpoint_every, seed, nproc))
    except (TrainError, DataError, ModelError) as exc:
        _fail("train", exc)
    typer.echo(json.dumps({k: summary[k] for k in ("steps", "final_loss", "tokens_per_second", "model")}))


@app.command("evaluate")
def evaluate_command(
    build_dir: Path = typer.Argument(..., help="Build folder with a trained model and data/heldout.jsonl."),
    previous_build: Path | None = PREVIOUS_BUILD, judge: str | None = JUDGE, gate_metric: str = METRIC,
    max_regression: float = MARGIN,
) -> None:
    """Score the build against the previous one on held-out seed questions, and apply the gate."""
    from pipeline.evaluate import EvaluationError
    from pipeline.gate import GateSettings
    from pipeline.models import ModelError
    from pipeline.weekly import run_evaluate

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        gate = GateSettings(metric=gate_metric, max_regression=max_regression, max_replay_regression=max_regression,
                            max_general_regression=max_regression)
        sections = run_evaluate(build_dir, previous=previous_build, judge=judge, gate=gate)
    except (EvaluationError, ModelError, ValueError) as exc:
        _fail("evaluate", exc)
    typer.echo(json.dumps({"passed": sections["gate"]["passed"], "reasons": sections["gate"]["reasons"],
                           "closer_after_training": sections["evaluation"]["closer_after_training"]}))


@app.command("publish")
def publish_command(
    build_dir: Path = typer.Argument(..., help="An evaluated build folder."),
    dest: Path | None = typer.Option(None, "--dest", help="Where to assemble it (default BUILD_DIR/published)."),
    force: bool = typer.Option(False, "--force", help="Publish even though the gate rejected the build."),
) -> None:
    """Assemble the published folder: weights, tokenizer, model card, recipe and report.html."""
    from pipeline.publish import PublishError
    from pipeline.weekly import run_publish

    try:
        target = run_publish(build_dir, dest, force)
    except PublishError as exc:
        _fail("publish", exc)
    typer.echo(str(target))


@app.command("all")
def all_command(
    taxonomy: Path | None = typer.Argument(None, help="Taxonomy checkout (default: the embedded sample taxonomy)."),
    out: Path = typer.Option(..., "--out", help="Build folder."),
    cache: Path | None = typer.Option(None, "--cache", help="Cache folder (default: $TAXONOMIST_CACHE or "
                                      "~/.cache/taxonomist)."),
    teacher: str | None = typer.Option(None, "--teacher", help="Teacher (and default judge) endpoint."),
    config: Path | None = typer.Option(None, "--config", help="YAML file with a `generate:` mapping of settings."),
    mirror: list[str] = typer.Option([], "--mirror", help="URL=PATH documents mirror; repeatable."),
    schema_version: str | None = typer.Option(None, "--schema-version", help="latest|own|N for the structural "
                                              "checks (default: the taxonomy's config)."),
    previous_build: Path | None = PREVIOUS_BUILD,
    student: str = STUDENT, full: bool = FULL, phase1_steps: int = P1_STEPS, phase2_steps: int = P2_STEPS,
    phase1_lr: float = P1_LR, phase2_lr: float = P2_LR, warmup: int = WARMUP, batch_size: int = BATCH,
    micro_batch_size: int = MICRO, checkpoint_every: int = EVERY, seed: int = SEED, nproc: int = NPROC,
    judge: str | None = JUDGE, gate_metric: str = METRIC, max_regression: float = MARGIN,
    force: bool = typer.Option(False, "--force", help="Publish even though the gate rejected the build."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
) -> None:
    """The whole weekly build: generate, train, evaluate, publish (exit 1 when the gate rejects it)."""
    from pipeline.publish import PublishError
    from pipeline.report import read_report

    generate_command(taxonomy=taxonomy, out=out, cache=cache, teacher=teacher, teacher_model=None, config=config,
                     ref=None, mirror=mirror, previous=[previous_build] if previous_build else [],
                     schema_version=schema_version, concurrency=None, progress=progress)
    train_command(build_dir=out, student=student, full=full, phase1_steps=phase1_steps, phase2_steps=phase2_steps,
                  phase1_lr=phase1_lr, phase2_lr=phase2_lr, warmup=warmup, batch_size=batch_size,
                  micro_batch_size=micro_batch_size, checkpoint_every=checkpoint_every, seed=seed, nproc=nproc)
    evaluate_command(build_dir=out, previous_build=previous_build, judge=judge or teacher, gate_metric=gate_metric,
                     max_regression=max_regression)
    from pipeline.weekly import run_publish, summary_line

    try:
        run_publish(out, None, force)
    except PublishError as exc:
        typer.echo(f"taxonomist build all: not published: {exc}", err=True)
        typer.echo(summary_line(read_report(out)))
        raise typer.Exit(1) from None
    typer.echo(summary_line(read_report(out)))
