"""The build's settings file: `generate:`, `train:` and `evaluate:` over the dataclass defaults, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.evaluate.gate import GateSettings
from pipeline.settings import BuildConfig, SettingsError, TrainSettings, given, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "pipeline" / "configs"
EXAMPLE = CONFIGS / "build.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "build.yml"
    path.write_text(text)
    return path


def test_the_shipped_example_loads_and_states_every_default() -> None:
    assert load_config(EXAMPLE) == BuildConfig()
    sections = yaml.safe_load(EXAMPLE.read_text())
    commented_out = {"schema_version"}  # its default (the taxonomy's own config) has no value to write
    for name, cls in (("generate", type(BuildConfig().generate)), ("train", TrainSettings),
                      ("evaluate", GateSettings)):
        assert set(sections[name]) | (commented_out if name == "generate" else set()) == set(cls.__dataclass_fields__)


def test_the_shipped_real_taxonomy_config_changes_only_training() -> None:
    config = load_config(CONFIGS / "taxonomy-cpu.yaml")
    assert (config.generate, config.evaluate) == (BuildConfig().generate, BuildConfig().evaluate)
    assert (config.train.phase2_lr, config.train.max_length, config.train.micro_batch_size) == (1e-3, 0, 2)
    assert config.train.batch_size == TrainSettings().batch_size


def test_the_file_replaces_defaults_and_the_command_line_replaces_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "train:\n  phase1_steps: 3\n  phase2_lr: 3e-4\n  full: true\n"
                           "evaluate:\n  metric: mean\n  max_replay_regression: 0.2\n")
    config = load_config(path)
    assert (config.train.phase1_steps, config.train.phase2_lr, config.train.full) == (3, 3e-4, True)
    assert config.train.phase2_steps == TrainSettings().phase2_steps  # not in the file: the default
    assert config.generate == BuildConfig().generate

    options = given(config.train, phase1_steps=None, phase2_steps=9, full=False)
    assert (options.phase1_steps, options.phase2_steps, options.full) == (3, 9, False)  # None: not given
    gate = given(config.evaluate, metric=None, max_regression=0.01)
    assert (gate.metric, gate.max_regression, gate.max_replay_regression) == ("mean", 0.01, 0.2)


@pytest.mark.parametrize(("text", "message"), [
    ("train:\n  phase1_steps: 3\n  phase2_stps: 4\n", r"build\.yml:3: train\.phase2_stps: unknown setting \(known: "),
    ("evaluate:\n  max_regresion: 0.1\n", r"build\.yml:2: evaluate\.max_regresion: unknown setting"),
    ("train:\n  phase1_lr: fast\n", r"build\.yml:2: train\.phase1_lr: expected a number, got 'fast'"),
    ("train:\n\n  phase1_steps: 2.5\n", r"build\.yml:3: train\.phase1_steps: expected an integer, got 2\.5"),
    ("train:\n  full: maybe\n", r"build\.yml:2: train\.full: expected true or false, got 'maybe'"),
    ("evaluate:\n  metric: vibes\n", r"build\.yml:2: evaluate\.metric: expected one of facts, similarity, judge, mean"),
    ("train: 3\n", r"build\.yml:1: train: expected a mapping"),
    ("training:\n  seed: 1\n", r"build\.yml: expected a mapping with the sections .* \(found training\)"),
    ("train:\n  seed: [1\n", r"build\.yml:3: not valid YAML"),
])
def test_a_bad_file_names_the_file_the_line_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_config(write(tmp_path, text))


def test_no_file_is_the_defaults() -> None:
    assert load_config(None) == BuildConfig()


def test_the_sample_taxonomy_config_is_the_special_case_of_few_rows() -> None:
    from pipeline.cli import SAMPLE_CONFIG

    config = load_config(SAMPLE_CONFIG)
    assert (config.generate, config.evaluate) == (BuildConfig().generate, BuildConfig().evaluate)
    assert (config.train.phase2_lr, BuildConfig().train.phase2_lr) == (1e-4, 1e-3)
    assert (config.train.micro_batch_size, config.train.activation_checkpointing) == (4, False)
