"""The weekly workflow feeds the dashboard: its steps' commands, run in order as the runner would on the
sample taxonomy (a tiny model, a gate set to reject), record the build, pause the stale clocks and leave
report.html where the always-run upload step takes it from. actionlint (`make lint`) keeps the YAML valid."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.dashboard.store import Store
from checks.samples import SAMPLES_DIR
from pipeline.models import tiny_model

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "weekly-build.yml"
RUN_URL = "https://github.com/octo-org/taxonomy/actions/runs/7"


def steps() -> list[dict[str, Any]]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]


def named(fragment: str) -> dict[str, Any]:
    (step,) = [s for s in steps() if fragment in s.get("name", "")]
    return step


def runs(step: dict[str, Any], failed: bool) -> bool:
    """GitHub's rule for a step's `if:`: by default only while nothing failed."""
    condition = step.get("if", "success()")
    return {"always()": True, "failure()": failed, "success()": not failed}[condition]


def test_the_workflow_records_every_build_and_pauses_on_failure_after_the_build() -> None:
    order = [s.get("name", s.get("uses")) for s in steps()]
    build = order.index(named("Build (generate").get("name"))
    record, pause = named("on the dashboard"), named("Pause the stale clocks")
    upload = named("Upload the build's report")
    assert build < order.index(upload["name"]) < order.index(record["name"]) < order.index(pause["name"])
    assert (record["if"], pause["if"], upload["if"]) == ("always()", "failure()", "always()")
    assert "taxonomist bot record-build" in record["run"] and "taxonomist bot pause-build" in pause["run"]
    assert "build/report.html" in upload["with"]["path"]
    for success_only in ("Keep this build", "Upload the build folder", "Announce"):
        assert "if" not in named(success_only)  # a rejected build is neither kept, published nor announced


@pytest.mark.slow
def test_a_rejected_build_on_the_sample_taxonomy_runs_the_workflows_commands_in_order(tmp_path: Path) -> None:
    workspace, data_dir = tmp_path / "workspace", tmp_path / "bot-data"
    shutil.copytree(SAMPLES_DIR / "taxonomy", workspace / "taxonomy")  # the "check out the taxonomy" step
    tool = workspace / ".venv" / "bin" / "taxonomist"  # what `make setup` installs
    tool.parent.mkdir(parents=True)
    tool.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'from taxonomist.cli import main; main()' \"$@\"\n")
    tool.chmod(0o755)
    tiny = tiny_model(tmp_path / "tiny")
    settings = tmp_path / "build.yml"
    settings.write_text(f"generate:\n  student: {tiny}\n  near_duplicate: 1.0\n  max_tokens: 8\n  judge_max_tokens: 4\n"
                        f"  teacher:\n    concurrency: 1\ntrain:\n  student: {tiny}\n  phase1_steps: 1\n"
                        "  phase2_steps: 1\n  batch_size: 2\n  micro_batch_size: 2\n  phase1_warmup: 0\n"
                        "  phase2_warmup: 0\nevaluate:\n  min_improvement: 1.0\n")  # the gate rejects
    # Each `${{ }}` the runner would fill in, by variable: an unknown one fails the test.
    values = {"TAXONOMY_REPOSITORY": "octo-org/taxonomy", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
              "TAXONOMIST_CACHE": str(workspace / ".cache"), "BUILD_DIR": str(workspace / "build"),
              "PREVIOUS_DIR": str(workspace / "previous-build"), "FORCE": "", "NPROC": "1", "TEACHER": str(tiny),
              "BUILD_CONFIG": str(settings), "RUN_URL": RUN_URL}
    runner_env = {**os.environ, "PYTHONPATH": str(ROOT), "TAXONOMIST_DATA_DIR": str(data_dir)}
    job_env = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["env"]
    failed, ran, uploaded = False, [], []
    for step in steps():
        if not runs(step, failed) or step.get("run") == "make setup":  # installed above, as `tool`
            continue
        if "uses" in step:
            if step["uses"].startswith("actions/upload-artifact"):
                uploaded += [p for p in step["with"]["path"].split() if (workspace / p).is_file()]
            continue
        env = {**runner_env, **{k: values[k] for k in {**job_env, **step.get("env", {})}}}
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=600)
        ran.append(step["name"])
        failed = failed or done.returncode != 0
        if step["name"].startswith("Build"):
            assert done.returncode == 1, done.stderr  # the gate rejected it
            assert "the gate rejected this build" in done.stderr
        else:
            assert done.returncode == 0, (step["name"], done.stderr)
    assert ran == ["Build (generate, train, evaluate, publish)", "Show the build on the dashboard",
                   "Pause the stale clocks (the build failed or the gate rejected it)"]  # no baseline, no announcement
    assert uploaded == ["build/report.html", "build/build.json"]  # the rejected build's report goes up
    assert "rejected" in (workspace / "build" / "report.html").read_text(encoding="utf-8").lower()
    store = Store(data_dir / "dashboard.sqlite3")
    paused, recorded = store.builds()
    assert (recorded.status, recorded.gate, recorded.report_url) == ("rejected", "rejected", RUN_URL)
    assert paused.status == "paused" and RUN_URL in paused.gate
    assert store.build_down_since() == recorded.finished_at  # the stale clocks stop from the rejected build
