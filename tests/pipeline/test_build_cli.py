"""`taxonomist build`: the whole build without a command, one stage with one, and `--config` for every stage."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import pipeline.weekly
from pipeline.models import tiny_model
from pipeline.progress import QUIET_BARS
from pipeline.publish.report import read_report
from pipeline.settings import TrainSettings
from taxonomist.cli import app


def flat(text: str) -> str:
    """Help text without rich's boxes and line breaks, for phrase checks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_help_lists_the_stages_and_says_that_without_one_it_runs_the_whole_build() -> None:
    result = CliRunner().invoke(app, ["build", "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"})
    assert result.exit_code == 0
    text = flat(result.output)
    assert "Without a command, runs the whole build (generate, train, evaluate, publish)" in text
    for stage in ("generate", "train", "evaluate", "publish"):
        assert re.search(rf"Commands .*\b{stage}\b", text)
    # one Usage block names both forms; the whole build's own options follow the commands
    assert text.count("Usage:") == 1 and "Usage: taxonomist build [OPTIONS] [TAXONOMY] --out BUILD | COMMAND" in text
    assert "The whole weekly build: generate, train, evaluate, publish" in text.split("Commands", 1)[1]
    assert "--phase1-steps" in text and "--out" in text and "(default: 20)" in text
    assert " all " not in text.split("Commands", 1)[1].split("The whole weekly build", 1)[0]  # routing name hidden


@pytest.mark.parametrize("args", [["build"], ["build", "--no-progress"], ["build", "some/taxonomy"]])
def test_the_whole_build_without_out_is_a_one_line_error(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert result.stderr.startswith("taxonomist build: --out BUILD_DIR is needed")
    assert "Traceback" not in result.output


def test_a_mistyped_stage_is_not_taken_for_a_taxonomy_folder() -> None:
    result = CliRunner().invoke(app, ["build", "trian", "b"])
    assert result.exit_code == 2 and "Did you mean 'train'?" in result.output


def test_a_bad_config_stops_the_whole_build_before_generation(tmp_path: Path) -> None:
    config = tmp_path / "build.yml"
    config.write_text("generate:\n  seed: 1\ntrain:\n  phase9_steps: 3\n")
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "b"), "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:4: train.phase9_steps: unknown setting" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `train` and `evaluate` hand to the stage functions (a double: these tests are about the options)."""
    seen: dict[str, Any] = {}

    def run_train(build_dir: Path, settings: TrainSettings, context: Any) -> dict[str, Any]:
        seen["train"], seen["train_cache"] = settings, context.cache
        return {"steps": 0, "final_loss": None, "tokens_per_second": None, "model": str(build_dir)}

    def run_evaluate(build_dir: Path, context: Any, **kwargs: Any) -> dict[str, Any]:
        seen["evaluate"], seen["evaluate_cache"] = kwargs, context.cache
        return {"gate": {"passed": True, "reasons": [], "improvement": None},
                "evaluation": {"closer_after_training": 0}}

    monkeypatch.setattr(pipeline.weekly, "run_train", run_train)
    monkeypatch.setattr(pipeline.weekly, "run_evaluate", run_evaluate)
    return seen


def test_train_options_come_from_the_command_line_then_the_file_then_the_defaults(
        tmp_path: Path, recorded: dict[str, Any]) -> None:
    config = tmp_path / "build.yml"
    config.write_text("train:\n  phase1_steps: 3\n  phase2_steps: 4\n  phase2_lr: 3.0e-4\n  full: true\n")
    result = CliRunner().invoke(app, ["build", "train", str(tmp_path), "--config", str(config),
                                      "--phase2-steps", "7", "--warmup", "2", "--lora"])
    assert result.exit_code == 0, result.output
    options, defaults = recorded["train"], TrainSettings()
    assert (options.phase1_steps, options.phase2_lr) == (3, 3e-4)  # the file
    assert (options.phase2_steps, options.phase1_warmup, options.phase2_warmup, options.full) == (7, 2, 2, False)
    assert (options.phase1_lr, options.batch_size, options.seed) == (defaults.phase1_lr, defaults.batch_size,
                                                                     defaults.seed)

    CliRunner().invoke(app, ["build", "train", str(tmp_path)])
    assert recorded["train"] == defaults  # no file, no option: every field is the dataclass default


def test_every_training_setting_is_reachable_from_the_file_and_cache_reaches_train_and_evaluate(
        tmp_path: Path, recorded: dict[str, Any]) -> None:
    config = tmp_path / "build.yml"
    config.write_text("train:\n  lora_r: 8\n  lora_alpha: 16\n  lora_dropout: 0.1\n  lora_targets: [q_proj, v_proj]\n"
                      "  weight_decay: 0.01\n  max_grad_norm: 0.5\n  keep_checkpoints: 3\n  mixed_precision: bf16\n")
    result = CliRunner().invoke(app, ["build", "train", str(tmp_path), "--config", str(config), "--cache",
                                      str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    got = recorded["train"]
    assert (got.lora_r, got.lora_alpha, got.lora_dropout, got.lora_targets, got.weight_decay, got.max_grad_norm,
            got.keep_checkpoints, got.mixed_precision) == (8, 16, 0.1, ("q_proj", "v_proj"), 0.01, 0.5, 3, "bf16")
    assert recorded["train_cache"] == tmp_path / "c"
    CliRunner().invoke(app, ["build", "evaluate", str(tmp_path), "--cache", str(tmp_path / "c")])
    assert recorded["evaluate_cache"] == tmp_path / "c"
    config.write_text("train:\n  mixed_precision: fp8\n")
    bad = CliRunner().invoke(app, ["build", "train", str(tmp_path), "--config", str(config)])
    assert bad.exit_code == 2 and "train.mixed_precision: expected no, fp16 or bf16" in bad.stderr


def test_gate_settings_come_from_the_command_line_then_the_file_then_the_defaults(
        tmp_path: Path, recorded: dict[str, Any]) -> None:
    config = tmp_path / "build.yml"
    config.write_text("evaluate:\n  metric: mean\n  max_replay_regression: 0.2\n  min_improvement: 0.01\n")
    result = CliRunner().invoke(app, ["build", "evaluate", str(tmp_path), "--config", str(config)])
    assert result.exit_code == 0, result.output
    gate = recorded["evaluate"]["gate"]
    assert (gate.metric, gate.max_replay_regression, gate.min_improvement, gate.max_regression) == (
        "mean", 0.2, 0.01, 0.05)
    CliRunner().invoke(app, ["build", "evaluate", str(tmp_path), "--config", str(config), "--gate-metric", "judge",
                             "--max-regression", "0.1"])
    gate = recorded["evaluate"]["gate"]
    assert (gate.metric, gate.max_regression, gate.max_replay_regression, gate.max_general_regression) == (
        "judge", 0.1, 0.1, 0.1)


@pytest.mark.parametrize(("command", "text", "message"), [
    ("train", "train:\n  phase1_stepz: 3\n", ":2: train.phase1_stepz: unknown setting"),
    ("train", "train:\n  batch_size: eight\n", ":2: train.batch_size: expected an integer, got 'eight'"),
    ("evaluate", "evaluate:\n  metric: mean\n  margin: 1\n", ":3: evaluate.margin: unknown setting"),
    ("evaluate", "evaluate:\n  max_regression: [1]\n", ":2: evaluate.max_regression: expected a number"),
])
def test_a_bad_config_exits_2_naming_file_line_and_key(tmp_path: Path, recorded: dict[str, Any], command: str,
                                                       text: str, message: str) -> None:
    config = tmp_path / "build.yml"
    config.write_text(text)
    result = CliRunner().invoke(app, ["build", command, str(tmp_path), "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"taxonomist build {command}: {config}{message}")
    assert command not in recorded  # the stage never ran


@pytest.mark.slow
def test_the_whole_build_runs_every_stage_with_config_and_options(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for name in QUIET_BARS:  # --no-progress sets them for the whole process: restored after the test
        monkeypatch.setenv(name, "")
    tiny = tiny_model(tmp_path / "tiny")
    config = tmp_path / "build.yml"
    config.write_text(f"generate:\n  student: {tiny}\n  near_duplicate: 1.0\n  max_tokens: 16\n  judge_max_tokens: 4\n"
                      f"  teacher:\n    concurrency: 1\ntrain:\n  student: {tiny}\n  phase1_steps: 2\n"
                      "  phase2_steps: 5\n  batch_size: 4\n  micro_batch_size: 2\n  phase1_warmup: 1\n"
                      "  phase2_warmup: 1\n")
    build = tmp_path / "build"
    result = CliRunner().invoke(app, ["build", "--out", str(build), "--cache", str(tmp_path / "cache"),
                                      "--teacher", str(tiny), "--config", str(config), "--phase2-steps", "1",
                                      "--judge", "none", "--force", "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["published"] == str(build / "published")
    report = read_report(build)
    assert set(report["stages"]) >= {"leaves", "teacher", "train", "evaluate", "publish"}
    assert report["training"]["steps"] == 3  # phase 1 from the file (2), phase 2 from the command line (1)
    assert (build / "published" / "report.html").is_file()
    # --no-progress: no bar from any library (issue 25), and lines that say the time left instead
    assert "%|" not in result.output and "it/s]" not in result.output
    assert "generate: 1/" in result.stderr and "left" in result.output
    # leaves that kept no synthetic sample are named beside the gate's verdict
    assert ("kept no synthetic sample" in result.stderr) == bool(report["leaves"]["zero_kept"])


@pytest.mark.parametrize("command", [["build", "generate"], ["build"]])
def test_a_bad_schema_version_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, str(tmp_path), "--out", str(tmp_path / "b"),
                                      "--schema-version", "bogus"])
    assert result.exit_code == 2
    expected = "taxonomist: --schema-version: the schema version must be latest, own or a version number, not 'bogus'"
    assert result.stderr.strip() == expected
