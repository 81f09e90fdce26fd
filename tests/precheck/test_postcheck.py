"""Postcheck after a build: each merged PR's questions answered before and after, announced on the PR."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from pipeline.evaluate.postcheck import postcheck
from pipeline.models import tiny_model
from taxonomist.cli import app
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp
from tests.emulator_tests.helpers import Api
from tests.precheck.helpers import FACTS, skill_yaml

REPO = "octo-org/taxonomy"
LEAF = "compositional_skills/facts/sky"
HOSTILE = "@octocat <b>bold</b> | cell"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@e", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@e", "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def built(tmp_path: Path, pr: int) -> Path:
    """A taxonomy whose leaf came in with PR `pr`, and an evaluated build of it (tiny models on both sides)."""
    taxonomy = tmp_path / "taxonomy"
    (taxonomy / LEAF).mkdir(parents=True)
    (taxonomy / LEAF / "qna.yaml").write_text(skill_yaml([(HOSTILE, "Blue."), *FACTS[1:]]), encoding="utf-8")
    git(taxonomy, "init", "-q", "-b", "main")
    git(taxonomy, "add", "-A")
    git(taxonomy, "commit", "-q", "-m", f"Add the sky facts (#{pr})")
    commit = git(taxonomy, "rev-parse", "HEAD").strip()
    build = tmp_path / "build"
    (build / "data").mkdir(parents=True)
    (build / "data" / "heldout.jsonl").write_text(json.dumps({"leaf": LEAF, "question": FACTS[2][0],
                                                              "answer": FACTS[2][1]}) + "\n")
    tiny_model(build / "training" / "model", seed=1)
    report = {"taxonomy": {"path": str(taxonomy), "commit": commit, "prs": [pr]}, "leaves": {"used": [LEAF]},
              "evaluation": {"baseline": str(tiny_model(tmp_path / "base")), "candidate": "x",
                             "leaves": [{"leaf": LEAF, "status": "new", "verdict": "pass"},
                                        {"leaf": "(general)", "status": "general", "verdict": "pass"}]},
              "gate": {"passed": True}, "published": {"path": str(build / "published")}}
    (build / "build.json").write_text(json.dumps(report))
    return build


def test_postcheck_section_answers_each_merged_prs_questions_before_and_after(tmp_path: Path) -> None:
    build = built(tmp_path, 12)
    section = postcheck(build, max_new_tokens=3)
    (entry,) = section["prs"]["12"]
    assert (entry["leaf"], entry["status"], entry["verdict"]) == (LEAF, "new", "pass")
    questions = entry["questions"]
    assert len(questions) == 5 and questions[0]["question"] == FACTS[2][0] and questions[0]["heldout"]
    assert not any(q["heldout"] for q in questions[1:])
    assert all(isinstance(q["before"], str) and -1 <= q["after_similarity"] <= 1 for q in questions)
    assert all(0 <= q["before_facts"] <= 1 and 0 <= q["after_facts"] <= 1 for q in questions)


def test_announce_build_posts_the_postcheck_on_the_merged_pr(
        tmp_path: Path, github_emulator: EmulatorClient, github_app: GitHubApp) -> None:
    github_emulator.create_repo(REPO, {"README.md": "# Taxonomy\n"})
    pull = github_emulator.open_pull(REPO, "sky", user="alice", title="Add sky facts",
                                     files={f"{LEAF}/qna.yaml": "version: 3\n"})
    merged = Api(github_emulator, github_app).call("PUT", f"/repos/{REPO}/pulls/{pull['number']}/merge",
                                                   json={"merge_method": "merge"})
    assert merged.status_code == 200, merged.text
    build = built(tmp_path, pull["number"])
    report = json.loads((build / "build.json").read_text())
    report["postcheck"] = postcheck(build, max_new_tokens=3)
    merged_head = github_emulator.state(REPO)["pulls"][str(pull["number"])]["head_sha"]
    report["taxonomy"]["commits"] = {merged_head: [LEAF]}  # the leaf's commit as GitHub knows it
    (build / "build.json").write_text(json.dumps(report))
    key = tmp_path / "app-key.pem"
    key.write_text(github_app.private_key_pem)
    env = {"TAXONOMIST_APP_ID": str(github_app.app_id), "TAXONOMIST_PRIVATE_KEY": str(key),
           "TAXONOMIST_GITHUB_API_URL": github_emulator.api_url, "TAXONOMIST_DATA_DIR": str(tmp_path / "d")}
    result = CliRunner().invoke(app, ["bot", "announce-build", str(build), "--repo", REPO], env=env)
    assert result.exit_code == 0, result.output
    (comment,) = [c for c in github_emulator.state(REPO)["comments"]
                  if c["issue_url"].endswith(f"/issues/{pull['number']}")]
    body = comment["body"]
    assert "| Question | Your answer | Previous model | This build | Facts held before → after |" in body
    assert re.search(r"\| \d+% → \d+% \|", body)
    assert f"{FACTS[2][0]} (held out)" in body and "gate verdict **pass**" in body
    assert "@octocat" not in body and "<b>" not in body and "\\| cell" in body
