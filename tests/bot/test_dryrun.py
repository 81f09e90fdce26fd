"""The dry run end to end on the project's samples: a real git repository, the real handlers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.comment.sticky import first_visible_line
from bot.demo import make_sample_repo
from bot.dryrun import dry_run
from bot.forges.localgit import LocalGitForge
from bot.triage.render import MARKER
from bot.triage.run import triage

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_QNA = "compositional_skills/linguistics/antonyms/qna.yaml"


@pytest.fixture(scope="module")
def sample_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_repo(tmp_path_factory.mktemp("demo") / "taxonomy")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-c", "from taxonomist.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)


def test_dry_run_json_has_check_run_comment_and_labels(sample_repo: Path) -> None:
    done = run_cli("bot", "dry-run", "--repo", str(sample_repo), "--base", "main", "--head", "contribution",
                   "--format", "json", "--skip", "content")
    assert done.returncode == 1, done.stderr  # the sample contribution has errors, on purpose
    found = json.loads(done.stdout)
    run = found["check_run"]
    assert run["name"] == "taxonomist/triage" and run["conclusion"] == "failure"
    lines = {(a["path"], a["start_line"]) for a in run["annotations"]}
    assert (SAMPLE_QNA, 7) in lines  # trailing spaces, at their real line
    assert all(a["start_line"] > 1 for a in run["annotations"])
    assert found["comment"]["body"].startswith(MARKER)
    assert set(found["labels"]["added"]) >= {"skill", "triage-needed"} and found["labels"]["removed"] == []


def test_dry_run_text_and_bad_ref_errors(sample_repo: Path) -> None:
    done = run_cli("bot", "dry-run", "--repo", str(sample_repo), "--head", "contribution", "--skip", "content")
    assert "== check run taxonomist/triage: failure" in done.stdout and "== comment" in done.stdout
    bad = run_cli("bot", "dry-run", "--repo", str(sample_repo), "--head", "no-such-branch")
    assert bad.returncode == 2 and "no-such-branch" in bad.stderr
    assert run_cli("bot", "dry-run", "--repo", str(sample_repo / "compositional_skills")).returncode == 2


def test_base_branch_is_clean(sample_repo: Path) -> None:
    forge = dry_run(sample_repo, "main", "main", skip=("content",))
    assert forge.check_runs[-1].conclusion == "success"
    assert forge.check_runs[-1].title == "No taxonomy files changed"


def test_second_run_edits_the_same_comment_and_check_run(sample_repo: Path) -> None:
    forge = LocalGitForge(repo=sample_repo, base="main", head="contribution")
    first = triage(forge, 1, skip=("content",))
    again = triage(forge, 1, skip=("content",))
    assert first is not None and again is not None
    assert len(forge.comments) == 1 and len(forge.check_runs) == 1
    assert first.comment == again.comment
    assert first.labels.added == ["skill", "triage-needed"]
    assert again.labels.added == [] and again.labels.removed == []
    assert len(forge.check_runs[0].annotations) == len(first.check_run.annotations)  # not appended twice


def test_config_is_read_from_the_base_branch(sample_repo: Path, tmp_path: Path) -> None:
    forge = LocalGitForge(repo=sample_repo, base="main", head="contribution")
    assert forge.read_file(".github/taxonomist.yml", "main") is not None
    assert forge.read_file(SAMPLE_QNA, "main") is None
    assert forge.read_file(SAMPLE_QNA, "contribution") is not None
    assert [c.path for c in forge.changed_files(forge.pull_request(1))] == [
        "compositional_skills/linguistics/antonyms/attribution.txt", SAMPLE_QNA]
    commits = forge.commits(forge.pull_request(1))
    assert len(commits) == 1 and "Signed-off-by: Sam Contributor <sam@example.org>" in commits[0].message


def test_make_demo_runs_offline_shows_the_contribution_and_keeps_its_repository(tmp_path: Path) -> None:
    def demo() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.demo", "--dir", str(tmp_path / "demo"), "--skip", "content",
                               "--precheck-model", "none"],
                              capture_output=True, text=True, cwd=ROOT, check=False,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})

    done = demo()
    assert done.returncode == 0, done.stderr
    assert "taxonomist/triage: failure" in done.stdout and "triage-needed" in done.stdout
    assert f"--- {SAMPLE_QNA}" in done.stdout and "   7 | " in done.stdout  # the lines the findings point at
    assert f"kept in {tmp_path / 'demo'}" in done.stderr
    # The line it prints runs as printed (issue 25: a bare `taxonomist` is not on PATH after `make demo`).
    line = next(x for x in done.stderr.splitlines() if x.startswith("$ ")).removeprefix("$ ").split()
    assert (ROOT / line[0]).is_file() or shutil.which(line[0]), line
    kept = LocalGitForge(repo=tmp_path / "demo", base="main", head="contribution")
    assert kept.read_file(SAMPLE_QNA, "contribution") is not None
    again = demo()
    assert again.returncode == 0, again.stderr
    assert LocalGitForge(repo=tmp_path / "demo", base="main", head="main").base_sha == kept.base_sha  # same cache key


@pytest.mark.slow
def test_dry_run_with_every_check_flags_the_samples_problems(sample_repo: Path) -> None:
    """Content checks included: presidio, MiniLM and the duplicate index built from the base branch."""
    from bot.dryrun import effects
    from bot.triage.indexes import IndexStore

    indexes = IndexStore(None)
    found = effects(dry_run(sample_repo, "main", "contribution", indexes=indexes))
    assert {"pii-suspected", "llm-text-suspected", "skill", "triage-needed"} <= set(found["labels"]["added"])
    checks = {a["title"].split()[0] for a in found["check_run"]["annotations"]}
    assert {"pii", "llm-text", "schema", "yamllint"} <= checks
    leaves = indexes._indexes[sample_repo.name].leaves()
    assert ("base", "compositional_skills/linguistics/synonyms") in leaves
    assert ("pr/1", "compositional_skills/linguistics/antonyms") in leaves


def test_review_section_agrees_with_the_finished_check_run(sample_repo: Path) -> None:
    forge = dry_run(sample_repo, "main", "contribution", skip=("content",))
    body = next(iter(forge.comments.values()))
    assert forge.check_runs[-1].status == "completed"
    assert "the triage check to finish" not in body
    assert "the triage check to pass (it concluded `failure`)" in body
    assert first_visible_line(body).startswith("**Blocked:")


def test_base_index_is_cached_by_base_commit_and_against_skips_it(sample_repo: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.triage.indexes
    from bot.dryrun import cached_indexes
    from bot.triage.indexes import IndexStore
    from checks.index import EmbeddingIndex

    built: list[str] = []
    real = bot.triage.indexes.taxonomy_sources
    monkeypatch.setattr(bot.triage.indexes, "taxonomy_sources",
                        lambda forge, ref: built.append(ref) or real(forge, ref))
    only_duplicate = ("pii", "topic", "llm-text")

    def run(indexes: IndexStore) -> LocalGitForge:
        return dry_run(sample_repo, "main", "contribution", skip=only_duplicate, indexes=indexes)

    run(cached_indexes(sample_repo, "main", tmp_path))
    assert len(built) == 1
    base = LocalGitForge(repo=sample_repo, base="main", head="main").base_sha
    assert (tmp_path / "dry-run-indexes" / base / f"{sample_repo.name}.npz").is_file()
    run(cached_indexes(sample_repo, "main", tmp_path))
    assert len(built) == 1  # the second run on the same base loaded the index
    given = IndexStore(None)
    given.seed(sample_repo.name, EmbeddingIndex())
    forge = run(given)
    assert len(built) == 1 and forge.check_runs[-1].status == "completed"


def test_demo_summary_counts_agree_with_its_tables(sample_repo: Path) -> None:
    """Issue 25: the demo said "0 errors, 1 warning in 1 file" beside the file's "No problems found"; the
    warning was the PR template's, a pull-request finding. It is counted where it is shown."""
    forge = dry_run(sample_repo, "main", "known-facts", skip=("pii", "duplicate", "topic", "llm-text"))
    body = next(iter(forge.comments.values()))
    headline = "0 errors, 0 warnings in 1 file; 1 warning on the pull request"
    assert f"**{headline}**" in body and forge.check_runs[-1].title == headline
    file_section, pr_section = body.split("### Pull request")
    assert "No problems found." in file_section
    assert pr_section.count("| `pr-template` | warning |") == 1
