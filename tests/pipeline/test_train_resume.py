"""Two phases on a tiny model: outputs, exact resume after a kill, and the 2-process gloo run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.models import load_student, tiny_model
from pipeline.train.stage import TrainConfig, TrainError, checkpoints, launch, learning_rate
from tests.pipeline.train_helpers import tiny_config, write_phase_data


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("train")
    return tiny_model(root / "tiny"), write_phase_data(root / "data")


@pytest.fixture(scope="module")
def uninterrupted(setup: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    student, data = setup
    return launch(tiny_config(student, data, tmp_path_factory.mktemp("whole")))


def losses(summary: dict) -> list[float]:
    return [entry["loss"] for entry in summary["losses"]]


def test_a_run_writes_both_phases_the_adapter_and_a_merged_model(uninterrupted: dict) -> None:
    assert [e["phase"] for e in uninterrupted["losses"]] == ["knowledge"] * 4 + ["skills"] * 5
    out = Path(uninterrupted["model"]).parent
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert (out / "model" / "model.safetensors").is_file() and (out / "model" / "tokenizer.json").is_file()
    assert uninterrupted["tokens_per_second"] > 0
    assert uninterrupted["samples"] == {"knowledge": 12, "skills": 12}


def test_the_merged_model_is_the_base_with_the_saved_adapter_folded_in(uninterrupted: dict) -> None:
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file

    out = Path(uninterrupted["model"]).parent
    base, _ = load_student(uninterrupted["settings"]["student"])
    original = {name: tensor.clone() for name, tensor in base.state_dict().items()}
    expected = PeftModel.from_pretrained(base, str(out / "adapter")).merge_and_unload().state_dict()
    merged = load_file(str(out / "model" / "model.safetensors"))
    assert not any("lora" in name for name in merged)
    changed = [name for name, tensor in merged.items() if not torch.equal(tensor, original[name])]
    assert changed  # training moved the weights the adapter targets
    for name, tensor in merged.items():
        torch.testing.assert_close(tensor, expected[name], rtol=1e-5, atol=1e-6)


def test_learning_rate_warms_up_per_phase_and_never_decays_to_zero(setup: tuple[Path, Path], tmp_path: Path) -> None:
    config = tiny_config(*setup, tmp_path)
    rates = [learning_rate(config, step) for step in range(9)]
    assert rates[:4] == pytest.approx([1e-3, 2e-3, 2e-3, 2e-3])
    assert rates[4:] == pytest.approx([1e-3, 2e-3, 2e-3, 2e-3, 2e-3])  # phase 2 warms up again


def test_killed_mid_phase_two_and_resumed_ends_like_the_uninterrupted_run(
        setup: tuple[Path, Path], uninterrupted: dict, tmp_path: Path) -> None:
    student, data = setup
    config = tiny_config(student, data, tmp_path / "run", stop_after_steps=7)  # checkpoint at 6, killed at 7
    config_path = tmp_path / "config.json"
    config_path.write_text(config.to_json())
    killed = subprocess.run([sys.executable, "-m", "pipeline.train.stage", str(config_path)], capture_output=True,
                            text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
    assert killed.returncode != 0, killed.stderr[-2000:]
    assert [json.loads((c / "trainer_state.json").read_text())["global_step"] for c in checkpoints(tmp_path / "run")
            ][-1] == 6
    assert not (tmp_path / "run" / "model").exists()

    resumed = launch(TrainConfig.from_json(config.to_json().replace('"stop_after_steps": 7', '"stop_after_steps": 0')))
    assert [e["phase"] for e in resumed["losses"]] == [e["phase"] for e in uninterrupted["losses"]]
    assert resumed["final_loss"] == pytest.approx(uninterrupted["final_loss"], rel=0.01)
    assert losses(resumed) == pytest.approx(losses(uninterrupted), rel=1e-4)


def test_two_gloo_processes_follow_the_single_process_loss_curve(
        setup: tuple[Path, Path], uninterrupted: dict, tmp_path: Path) -> None:
    student, data = setup
    summary = launch(tiny_config(student, data, tmp_path), nproc=2, env={"OMP_NUM_THREADS": "1"})
    assert summary["processes"] == 2
    # Same global batches and token-normalised loss; only the order of the gradient sums differs.
    assert losses(summary) == pytest.approx(losses(uninterrupted), rel=0.01)
    assert (tmp_path / "model" / "model.safetensors").is_file()


def test_checkpoints_of_other_settings_are_not_resumed(setup: tuple[Path, Path], uninterrupted: dict) -> None:
    student, data = setup
    out = Path(uninterrupted["model"]).parent
    with pytest.raises(TrainError, match="other settings or data"):
        launch(tiny_config(student, data, out, seed=7))
