"""Checkpoint selection (issue 13 item 7): the last phase's checkpoints scored on held-out branch questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.models import tiny_model
from pipeline.train.selection import candidates, select_checkpoint
from pipeline.train.stage import launch
from tests.pipeline.train_helpers import tiny_config, write_phase_data


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("select")
    build = root / "build"
    write_phase_data(build / "data")
    rows = [{"leaf": "compositional_skills/writing/words", "origin": "seed", "question": "the quick fox",
             "answer": "jumps over"},
            {"leaf": "compositional_skills/writing/words", "origin": "learned", "question": "sun", "answer": "star"},
            {"leaf": "compositional_skills/writing/other", "origin": "generated", "question": "moon", "answer": "dog"}]
    (build / "data" / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tiny_config(tiny_model(root / "tiny"), build / "data", build / "training", checkpoint_every=2)
    launch(config)
    return build, config


def test_every_checkpoint_of_the_last_phase_keeps_its_adapter(trained) -> None:
    build, _ = trained
    # phase 1 is global steps 1-4, phase 2 steps 5-9: checkpoints every 2 steps and at the phase's end
    assert [step for step, _ in candidates(build / "training")] == [6, 8, 9]


def test_the_best_scoring_checkpoint_becomes_the_builds_model(trained) -> None:
    build, config = trained
    training = build / "training"
    final_weights = (training / "model" / "model.safetensors").read_bytes()
    asked: list[list[str]] = []

    def scorer(items, answers):
        asked.append([item["answer"] for item in items])
        return [0.9 if len(asked) == 2 else 0.1 for _ in answers]  # the second candidate, step 8, wins

    selection = select_checkpoint(build, config, max_new_tokens=4, scorer=scorer)
    assert asked == [["jumps over", "dog"]] * 3  # held-out and generated rows; never the learned (trained) ones
    assert [c["step"] for c in selection["candidates"]] == [6, 8, 9]
    assert (selection["chosen"], selection["final"], selection["replaced_final"]) == (8, 9, True)
    step8 = dict(candidates(training))[8]
    assert (training / "adapter" / "adapter_model.safetensors").read_bytes() == (
        step8 / "adapter_model.safetensors").read_bytes()
    assert (training / "model" / "model.safetensors").read_bytes() != final_weights
    assert (training / "model" / "tokenizer_config.json").is_file()


def test_ties_keep_the_later_checkpoint(trained) -> None:
    build, config = trained
    selection = select_checkpoint(build, config, max_new_tokens=2, scorer=lambda items, a: [0.5] * len(a))
    assert selection["chosen"] == 9 and not selection["replaced_final"]
    step9 = dict(candidates(build / "training"))[9]  # installed again after the test above chose step 8
    assert (build / "training" / "adapter" / "adapter_model.safetensors").read_bytes() == (
        step9 / "adapter_model.safetensors").read_bytes()
