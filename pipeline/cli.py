"""`taxonomist build ...`: the weekly build, whole or one stage at a time. Heavy imports stay inside the commands.

`taxonomist build [TAXONOMY] --out BUILD_DIR` runs every stage; `taxonomist build generate|train|evaluate|publish`
runs one. Defaults live in the settings dataclasses (`pipeline.settings`, `pipeline.evaluate.gate`): options here
default to None and replace a field only when given, over the `--config` file's sections.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path
from typing import Any

import typer

from checks.cli import Command, Group, fail
from pipeline.evaluate.gate import GateSettings
from pipeline.progress import set_progress_bars
from pipeline.settings import GenerateSettings, SettingsError, TrainSettings, given, load_config, parse_mirrors

IN_GROUP_HELP = "taxonomist.build.in_group_help"  # the whole build's help shown under `build --help`
WHOLE_BUILD = "all"  # the hidden command behind `taxonomist build [TAXONOMY] --out BUILD_DIR`
TRAIN, GATE = TrainSettings(), GateSettings()
SAMPLE_CONFIG = Path(__file__).resolve().parent / "configs" / "sample.yaml"  # the defaults, shown in the options' help


class WholeBuildByDefault(Group):
    """A group that runs its whole-build command when the first argument is not a sub-command.

    `taxonomist build --out B` and `taxonomist build ../taxonomy --out B` start the whole build;
    `taxonomist build train B` runs one stage; `taxonomist build --help` lists the stages and then
    the whole build's own options. A taxonomy folder named like a stage is reached as `./train`.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            self._refuse_typo(ctx, args[0] if args else "")
            args = [WHOLE_BUILD, *args]
        return super().parse_args(ctx, args)

    def _refuse_typo(self, ctx: typer.Context, first: str) -> None:
        """`taxonomist build trian B` is a mistyped stage, not a taxonomy folder named `trian`."""
        if not first or first.startswith("-") or Path(first).exists():
            return
        stages = [name for name, command in self.commands.items() if not command.hidden]
        close = difflib.get_close_matches(first, stages, n=1)
        if close:
            ctx.fail(f"No such command or taxonomy folder {first!r}. Did you mean {close[0]!r}?")

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        whole = self.commands[WHOLE_BUILD]
        whole_ctx = whole.make_context(WHOLE_BUILD, [], parent=ctx, resilient_parsing=True)
        whole_ctx.meta[IN_GROUP_HELP] = True  # one Usage block: the group's names both forms
        whole.format_help(whole_ctx, formatter)


class AtGroupPath(typer.Context):
    """The whole build's context: its usage lines and error hints name `taxonomist build` itself."""

    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent is not None else super().command_path


class WholeBuildCommand(Command):
    context_class = AtGroupPath

    def get_usage(self, ctx: typer.Context) -> str:
        return "" if ctx.meta.get(IN_GROUP_HELP) else super().get_usage(ctx)


app = typer.Typer(name="build", cls=WholeBuildByDefault, add_completion=False, pretty_exceptions_enable=False,
                  subcommand_metavar="[TAXONOMY] --out BUILD | COMMAND [ARGS]...",
                  help="Turn the merged taxonomy into datasets and a model build. Without a command, runs the "
                       "whole build (generate, train, evaluate, publish) with the options listed after the "
                       "commands; a command runs one stage.")
CACHE = typer.Option(None, "--cache", help="Cache folder: documents, generated leaves, converted models (default: "
                     "$TAXONOMIST_CACHE or ~/.cache/taxonomist).")
CONFIG = typer.Option(None, "--config", help="YAML settings file with `generate:`, `train:` and `evaluate:` "
                      "sections (an example: build.example.yaml in pipeline/configs); options given here win.")


def stage_errors() -> tuple[type[Exception], ...]:
    """What a stage raises for bad input or settings: reported in one line with exit status 2."""
    from checks.config import ConfigError
    from checks.discovery import DiscoveryError
    from pipeline.evaluate.stage import EvaluationError
    from pipeline.generate.documents import DocumentFetchError
    from pipeline.leaves import TaxonomyError
    from pipeline.models import ModelError
    from pipeline.publish.report import ReportError
    from pipeline.train.data import DataError
    from pipeline.train.stage import TrainError

    return (SettingsError, TaxonomyError, ModelError, ReportError, DocumentFetchError, ConfigError, DiscoveryError,
            TrainError, DataError, EvaluationError, ValueError, RuntimeError)


def _fail(command: str, exc: Exception) -> None:
    if isinstance(exc, typer.Exit):  # a RuntimeError too: an exit already reported (a bad option) goes on as it is
        raise exc
    raise fail(str(exc), f"taxonomist build {command}") from None


def generate_settings(config: Path | None, *, teacher: str | None, teacher_model: str | None,
                      mirror: list[str], schema_version: str | None, concurrency: int | None) -> GenerateSettings:
    """The `generate:` section with the command line's options over it (a bad `--schema-version` exits 2)."""
    from checks.cli import parse_schema_version

    version = parse_schema_version(schema_version)
    settings = load_config(config).generate
    t = given(settings.teacher, endpoint=teacher, model=teacher_model, concurrency=concurrency)
    return dataclasses.replace(settings, teacher=t, mirrors=settings.mirrors + parse_mirrors(mirror, "--mirror"),
                               schema_version=settings.schema_version if version is None else version)


def generate_summary(sections: dict[str, Any], out: Path) -> str:
    leaves, teacher_counts = sections["leaves"], sections["teacher"]
    return json.dumps({"used": len(leaves["used"]), "skipped": len(leaves["skipped"]), "thin": len(leaves["thin"]),
                       "zero_kept": leaves["zero_kept"], "regenerated": len(leaves["regenerated"]),
                       "reused": len(leaves["reused"]),
                       "teacher": {k: teacher_counts[k] for k in ("requests", "failed", "retried")},
                       "rows": sections["samples"]["rows"], "report": str(out / "build.json")})


@app.command("generate", cls=Command)
def generate_command(
    taxonomy: Path | None = typer.Argument(None, help="Taxonomy checkout (default: the embedded sample taxonomy)."),
    out: Path = typer.Option(..., "--out", help="Build folder: data/ and build.json are written there."),
    cache: Path | None = CACHE,
    teacher: str | None = typer.Option(None, "--teacher", help="OpenAI-compatible base URL, a local model folder "
                                       "or .gguf file, or `default` (embedded SmolLM2-135M-Instruct)."),
    teacher_model: str | None = typer.Option(None, "--teacher-model", help="Model name sent to the server."),
    config: Path | None = CONFIG,
    ref: str | None = typer.Option(None, "--ref", help="Git ref of the taxonomy to build (default: its default "
                                   "branch; WORKTREE: the checkout's files as they are on disk)."),
    mirror: list[str] = typer.Option([], "--mirror", help="URL=PATH: fetch a documents repository from a local "
                                     "mirror; repeatable."),
    previous: list[Path] = typer.Option([], "--previous", help="An earlier build folder to replay data from; "
                                        "repeatable."),
    schema_version: str | None = typer.Option(None, "--schema-version", help="latest|own|N: the schema version a "
                                              "leaf must be valid under (default: own, each file's own version)."),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, help="Teacher requests in flight."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar with the time left "
                                  "(--no-progress: a line per leaf)."),
) -> None:
    """Resynthesize training data from the taxonomy, regenerating only leaves that changed.

    Example: taxonomist build generate ../taxonomy --out build
    """
    from pipeline.weekly import BuildContext, run_generate

    set_progress_bars(progress)
    try:
        settings = generate_settings(config, teacher=teacher, teacher_model=teacher_model, mirror=mirror,
                                     schema_version=schema_version, concurrency=concurrency)
        sections = run_generate(taxonomy, out, settings, BuildContext.default(cache), ref=ref, previous=previous,
                                progress=progress)
    except stage_errors() as exc:
        _fail("generate", exc)
    typer.echo(generate_summary(sections, out))


def train_option(flag: str, field: str, text: str, shown: object = None, **kwargs: Any) -> Any:
    """An option of `taxonomist build train` whose default is read from `TrainSettings` (shown in the help)."""
    default = getattr(TRAIN, field) if shown is None else shown
    return typer.Option(None, flag, help=f"{text} Default: {default:g}." if isinstance(default, float)
                        else f"{text} Default: {default}.", **kwargs)


STUDENT = train_option("--student", "student", "Student: a model folder, a .gguf file, or `default` "
                       "(embedded SmolLM2-135M-Instruct).")
FULL = train_option("--full/--lora", "full", "Full fine-tuning, or LoRA.", shown="full" if TRAIN.full else "LoRA")
P1_STEPS = train_option("--phase1-steps", "phase1_steps", "Optimizer steps of phase 1 (knowledge).", min=1)
P2_STEPS = train_option("--phase2-steps", "phase2_steps", "Optimizer steps of phase 2 (skills + replay).", min=1)
P1_LR = train_option("--phase1-lr", "phase1_lr", "Phase 1 learning rate (after warm-up; constant, no decay).")
P2_LR = train_option("--phase2-lr", "phase2_lr", "Phase 2 learning rate.")
WARMUP = train_option("--warmup", "phase1_warmup", "Linear warm-up steps at the start of each phase (both "
                      "phase1_warmup and phase2_warmup).", min=0)
BATCH = train_option("--batch-size", "batch_size", "Samples per optimizer step (all processes together).", min=1)
MICRO = train_option("--micro-batch-size", "micro_batch_size", "Samples per forward pass in one process.", min=1)
EVERY = train_option("--checkpoint-every", "checkpoint_every", "Steps between checkpoints (also at each phase end).",
                     min=1)
SEED = train_option("--seed", "seed", "Seed of the data order, the adapter's init and dropout.")
NPROC = train_option("--nproc", "nproc", "Processes: >1 launches torchrun (CPU, gloo) or accelerate with FSDP "
                     "(CUDA, NCCL; fsdp-gpu.yaml in pipeline/configs).", min=1)
PREVIOUS_BUILD = typer.Option(None, "--previous-build", help="The previous build folder to compare with "
                              "(default: the base model, as for a first build).")
JUDGE = typer.Option(None, "--judge", help="A judge that also rates each answer 1..5: OpenAI-compatible URL, model "
                     "folder or `default` (SmolLM2, which rates everything alike). Default: none (fact recall and "
                     "similarity only).")
METRIC = typer.Option(None, "--gate-metric", help="What the gate decides on: facts|similarity|judge|mean. "
                      f"Default: {GATE.metric}.")
MARGIN = typer.Option(None, "--max-regression", help="How far an unchanged leaf, the replay set or the general "
                      "questions may fall (all three margins; the replay and general rows at least one answer's "
                      f"worth, 1/their questions). Default: {GATE.max_regression}.")


def train_settings(config: Path | None, **options: Any) -> TrainSettings:
    """The `train:` section with the command line's options over it (`--warmup` sets both phases')."""
    warmup = options.pop("warmup", None)
    return given(load_config(config).train, phase1_warmup=warmup, phase2_warmup=warmup, **options)


def gate_settings(config: Path | None, *, gate_metric: str | None, max_regression: float | None) -> GateSettings:
    """The `evaluate:` section with the command line's options over it (`--max-regression` sets all three)."""
    return given(load_config(config).evaluate, metric=gate_metric, max_regression=max_regression,
                 max_replay_regression=max_regression, max_general_regression=max_regression)


@app.command("train", cls=Command)
def train_command(
    build_dir: Path = typer.Argument(..., help="Build folder with data/phase1.jsonl and data/phase2.jsonl."),
    config: Path | None = CONFIG, cache: Path | None = CACHE,
    student: str | None = STUDENT, full: bool | None = FULL, phase1_steps: int | None = P1_STEPS,
    phase2_steps: int | None = P2_STEPS, phase1_lr: float | None = P1_LR, phase2_lr: float | None = P2_LR,
    warmup: int | None = WARMUP, batch_size: int | None = BATCH, micro_batch_size: int | None = MICRO,
    checkpoint_every: int | None = EVERY, seed: int | None = SEED, nproc: int | None = NPROC,
) -> None:
    """Train phase 1 then phase 2 (resuming from the last checkpoint if a run was cut short).

    Example: taxonomist build train build
    """
    from pipeline.weekly import BuildContext, run_train

    try:
        settings = train_settings(config, student=student, full=full, phase1_steps=phase1_steps,
                                  phase2_steps=phase2_steps, phase1_lr=phase1_lr, phase2_lr=phase2_lr, warmup=warmup,
                                  batch_size=batch_size, micro_batch_size=micro_batch_size,
                                  checkpoint_every=checkpoint_every, seed=seed, nproc=nproc)
        summary = run_train(build_dir, settings, BuildContext.default(cache))
    except stage_errors() as exc:
        _fail("train", exc)
    typer.echo(json.dumps({k: summary[k] for k in ("steps", "final_loss", "tokens_per_second", "model")}))


@app.command("evaluate", cls=Command)
def evaluate_command(
    build_dir: Path = typer.Argument(..., help="Build folder with a trained model and data/heldout.jsonl."),
    config: Path | None = CONFIG, cache: Path | None = CACHE,
    previous_build: Path | None = PREVIOUS_BUILD, judge: str | None = JUDGE, gate_metric: str | None = METRIC,
    max_regression: float | None = MARGIN,
) -> None:
    """Score the build against the previous one on held-out seed questions, and apply the gate.

    Example: taxonomist build evaluate build --previous-build last-week
    """
    from pipeline.weekly import BuildContext, run_evaluate

    try:
        gate = gate_settings(config, gate_metric=gate_metric, max_regression=max_regression)
        sections = run_evaluate(build_dir, BuildContext.default(cache), previous=previous_build, judge=judge,
                                gate=gate)
    except stage_errors() as exc:
        _fail("evaluate", exc)
    typer.echo(json.dumps({"passed": sections["gate"]["passed"], "reasons": sections["gate"]["reasons"],
                           "improvement": sections["gate"]["improvement"],
                           "closer_after_training": sections["evaluation"]["closer_after_training"]}))


@app.command("publish", cls=Command)
def publish_command(
    build_dir: Path = typer.Argument(..., help="An evaluated build folder."),
    dest: Path | None = typer.Option(None, "--dest", help="Where to assemble it (default BUILD_DIR/published)."),
    force: bool = typer.Option(False, "--force", help="Publish even though the gate rejected the build."),
) -> None:
    """Assemble the published folder: weights, tokenizer, model card, recipe and report.html.

    Example: taxonomist build publish build
    """
    from pipeline.memory import MemoryBudgetError
    from pipeline.publish.stage import PublishError
    from pipeline.weekly import run_publish

    try:
        target = run_publish(build_dir, dest, force)
    except (PublishError, MemoryBudgetError) as exc:
        _fail("publish", exc)
    typer.echo(str(target))


@app.command(WHOLE_BUILD, cls=WholeBuildCommand, hidden=True)
def whole_build_command(
    taxonomy: Path | None = typer.Argument(None, help="Taxonomy checkout (default: the embedded sample taxonomy)."),
    out: Path | None = typer.Option(None, "--out", help="Build folder (needed)."),
    cache: Path | None = CACHE,
    teacher: str | None = typer.Option(None, "--teacher", help="Teacher endpoint."),
    config: Path | None = CONFIG,
    mirror: list[str] = typer.Option([], "--mirror", help="URL=PATH documents mirror; repeatable."),
    schema_version: str | None = typer.Option(None, "--schema-version", help="latest|own|N: the schema version a "
                                              "leaf must be valid under (default: own, each file's own version)."),
    previous_build: Path | None = PREVIOUS_BUILD,
    student: str | None = STUDENT, full: bool | None = FULL, phase1_steps: int | None = P1_STEPS,
    phase2_steps: int | None = P2_STEPS, phase1_lr: float | None = P1_LR, phase2_lr: float | None = P2_LR,
    warmup: int | None = WARMUP, batch_size: int | None = BATCH, micro_batch_size: int | None = MICRO,
    checkpoint_every: int | None = EVERY, seed: int | None = SEED, nproc: int | None = NPROC,
    judge: str | None = JUDGE, gate_metric: str | None = METRIC, max_regression: float | None = MARGIN,
    force: bool = typer.Option(False, "--force", help="Publish even though the gate rejected the build."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars (--no-progress: "
                                  "none from any library; lines with the time left instead)."),
) -> None:
    """The whole weekly build: generate, train, evaluate, publish (exit 1 when the gate rejects it).

    Example: taxonomist build ../taxonomy --out build --config pipeline/configs/taxonomy-cpu.yaml
    """
    from pipeline.memory import MemoryBudgetError
    from pipeline.publish.report import read_report
    from pipeline.publish.stage import PublishError, zero_kept_note
    from pipeline.weekly import BuildContext, run_evaluate, run_generate, run_publish, run_train, summary_line

    if out is None:
        typer.echo("taxonomist build: --out BUILD_DIR is needed (the folder the build is written to); "
                   "`taxonomist build --help` lists the options and the single-stage commands", err=True)
        raise typer.Exit(2)
    set_progress_bars(progress)
    context = BuildContext.default(cache)
    stage = "generate"
    if taxonomy is None and config is None:
        config = SAMPLE_CONFIG  # the sample's few rows are the special case (pipeline/configs/sample.yaml)
    try:  # every setting is read and checked before the first stage starts
        generate = generate_settings(config, teacher=teacher, teacher_model=None, mirror=mirror,
                                     schema_version=schema_version, concurrency=None)
        train = train_settings(config, student=student, full=full, phase1_steps=phase1_steps,
                               phase2_steps=phase2_steps, phase1_lr=phase1_lr, phase2_lr=phase2_lr, warmup=warmup,
                               batch_size=batch_size, micro_batch_size=micro_batch_size,
                               checkpoint_every=checkpoint_every, seed=seed, nproc=nproc)
        gate = gate_settings(config, gate_metric=gate_metric, max_regression=max_regression)
        typer.echo(generate_summary(run_generate(taxonomy, out, generate, context, progress=progress,
                                                 previous=[previous_build] if previous_build else []), out))
        stage = "train"
        run_train(out, train, context)
        stage = "evaluate"
        run_evaluate(out, context, previous=previous_build, judge=judge, gate=gate)
    except stage_errors() as exc:
        _fail(stage, exc)
    if note := zero_kept_note(read_report(out)):  # the gate passes them on their seeds: say so beside it
        typer.echo(f"taxonomist build: warning: {note}", err=True)
    try:
        run_publish(out, None, force, context)
    except PublishError as exc:
        typer.echo(f"taxonomist build: not published: {exc}", err=True)
        typer.echo(summary_line(read_report(out)))
        raise typer.Exit(1) from None
    except MemoryBudgetError as exc:
        _fail("publish", exc)
    typer.echo(summary_line(read_report(out)))
