"""The Fix column: standard replies where upstream's triage guide has one, a template that exists."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.demo import make_sample_repo
from bot.forges.localgit import LocalGitForge
from bot.triage.fixes import PROJECT_TEMPLATES, TEMPLATE_PATH, fix_for, names_template, template_reference
from bot.triage.run import triage
from tests.conftest import REPO_ROOT


@pytest.mark.parametrize(("check", "message", "words"), [
    ("topic", "jokes: \u201cTell me a knock knock joke\u201d is on upstream's avoid-topics list", "no jokes or poems"),
    ("topic", "poems: \u201cWrite a poem\u201d is on upstream's avoid-topics list", "no jokes or poems"),
    ("topic", "math: \u201cSolve 3x + 2 = 11\u201d is on upstream's avoid-topics list", "no math"),
    ("topic", "code: \u201cdef f(x):\u201d is on upstream's avoid-topics list", "no code"),
    ("placement", "a skill file (no `document`) under knowledge/: move it", "Facts the model should learn"),
    ("placement", "a knowledge file (it has a `document`) under compositional_skills/", "are knowledge"),
    ("schema", "Value must have at least 5 items (has 4): add 1 more", "Add examples until there are enough"),
    ("min-examples", "3 seed examples; a skill needs at least 5", "each teaching something different"),
    ("llm-text", "proprietary model name \u201cChatGPT\u201d: name no proprietary model", "terms forbid training"),
    ("attribution", '"attribution.txt" is empty', "Self-authored"),
])
def test_standard_replies_match_the_finding(check: str, message: str, words: str) -> None:
    assert words in fix_for(check, message)


def test_other_findings_keep_their_checks_fix() -> None:
    assert fix_for("topic", "medical advice: \u201cTake two pills\u201d") == fix_for("topic")
    assert fix_for("no-such-check") == "See the message."


def test_schema_fix_points_at_a_template_that_exists() -> None:
    assert PROJECT_TEMPLATES["skill"] in fix_for("schema", "`.version` must be integer")
    assert "docs/template_qna.yaml" not in fix_for("schema", "`.version` must be integer")
    assert f"`{TEMPLATE_PATH}` on the base branch" in fix_for("schema", "x", template_reference(True))
    assert names_template([("yamllint", "trailing spaces"), ("schema", "x")])
    assert not names_template([("yamllint", "trailing spaces"), ("dco", "not signed off")])  # no API call then


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_triage_points_at_the_base_branchs_template_only_when_it_has_one(tmp_path: Path) -> None:
    repo = make_sample_repo(tmp_path / "taxonomy")
    body = triage(LocalGitForge(repo=repo, base="main", head="contribution"), 1, skip=("content", "pr")).comment
    assert PROJECT_TEMPLATES["skill"] in body and TEMPLATE_PATH not in body  # the sample: too few examples
    git(repo, "checkout", "-q", "main")
    (repo / TEMPLATE_PATH).parent.mkdir(exist_ok=True)
    (repo / TEMPLATE_PATH).write_text("version: 3\n")
    git(repo, "add", TEMPLATE_PATH)
    git(repo, "commit", "-qm", "template")
    body = triage(LocalGitForge(repo=repo, base="main", head="contribution"), 1, skip=("content", "pr")).comment
    assert f"`{TEMPLATE_PATH}` on the base branch" in body and PROJECT_TEMPLATES["skill"] not in body


@pytest.mark.parametrize(("kind", "place"), [("skill", "compositional_skills/linguistics/passive_voice"),
                                             ("knowledge", "knowledge/science/astronomy/planets")])
def test_the_templates_the_fixes_point_at_exist_and_pass_the_structural_checks(kind: str, place: str,
                                                                                tmp_path: Path) -> None:
    """Issue 25: "see the template" led to a table of checks; the fixes now link the shipped templates."""
    from checks.runner import Checker
    from checks.sources import DiskSource

    assert PROJECT_TEMPLATES[kind].endswith(f"/docs/templates/{kind}/qna.yaml")
    leaf = tmp_path / place
    leaf.mkdir(parents=True)
    for name in ("qna.yaml", "attribution.txt"):
        shutil.copy(REPO_ROOT / "docs" / "templates" / kind / name, leaf / name)
    report = Checker(only=["structural"]).check([DiskSource(str(leaf / "qna.yaml"))])
    assert report.all_findings() == []
