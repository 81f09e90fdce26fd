"""`taxonomist build train`, `evaluate` and `publish` on a tiny student, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.models import tiny_model
from pipeline.publish.report import read_report, update_report
from taxonomist.cli import app
from tests.pipeline.train_helpers import write_phase_data


@pytest.mark.slow
def test_train_evaluate_publish_from_the_command_line(tmp_path: Path) -> None:
    build = tmp_path / "build"
    data = write_phase_data(build / "data")
    (data / "heldout.jsonl").write_text(json.dumps({"leaf": "compositional_skills/writing/words",
                                                    "question": "the quick fox", "answer": "jumps over"}) + "\n")
    update_report(build, {"leaves": {"used": ["compositional_skills/writing/words"], "hashes": {}},
                          "stages": {"generate": 1.0}})
    student = tiny_model(tmp_path / "tiny")
    runner = CliRunner()

    trained = runner.invoke(app, ["build", "train", str(build), "--student", str(student), "--phase1-steps", "2",
                                  "--phase2-steps", "2", "--batch-size", "4", "--micro-batch-size", "2",
                                  "--warmup", "1"])
    assert trained.exit_code == 0, trained.output
    summary = [json.loads(line) for line in trained.stdout.splitlines() if line.startswith("{")]
    assert summary and summary[-1]["steps"] == 4

    evaluated = runner.invoke(app, ["build", "evaluate", str(build), "--judge", "none"])
    assert evaluated.exit_code == 0, evaluated.output
    report = read_report(build)
    assert [r["leaf"] for r in report["evaluation"]["leaves"]] == ["compositional_skills/writing/words", "(general)",
                                                                  "(replay)"]
    assert set(report["stages"]) == {"generate", "train", "evaluate"}  # generation's entry is kept
    assert report["postcheck"]["prs"] == {}  # no merged PR in this build: nothing to answer for announce-build

    if not report["gate"]["passed"]:
        refused = runner.invoke(app, ["build", "publish", str(build)])
        assert refused.exit_code == 2 and "gate rejected" in refused.output
    published = runner.invoke(app, ["build", "publish", str(build), "--force"])
    assert published.exit_code == 0, published.output
    assert (build / "published" / "report.html").is_file()
    assert (build / "published" / "model" / "model.safetensors").is_file()


def test_train_without_data_says_what_to_run_first(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["build", "train", str(tmp_path), "--student", str(tiny_model(tmp_path / "m"))])
    assert result.exit_code == 2
    assert "run `taxonomist build generate` first" in result.output
