"""Symlinks and submodules in a pull request (issue 11, item 7): "must be a regular file", never content.

The same contribution is triaged by the bot through the emulated GitHub (whose trees and contents
APIs answer links and submodules as GitHub's do: a link to a file of the repository is served as
that file's content) and by `bot dry-run` on a real git repository.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.demo import make_sample_repo
from bot.dryrun import dry_run
from bot.triage.run import TriageOutcome, triage
from tests.bot.world import app_forge, clean_contribution, tree
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp

REPO = f"{ORG}/taxonomy"
LEAF = "compositional_skills/linguistics/opposites"
BASE_LEAF = "compositional_skills/linguistics/synonyms"
SUBMODULE_SHA = "1f" * 20
SKIP = ("content",)
REGULAR = "must be a regular file"


def regular_file_errors(outcome: TriageOutcome | None) -> dict[str, str]:
    """{finding path: check} of the "must be a regular file" errors of a triage."""
    assert outcome is not None and outcome.report is not None
    return {f.path or "": f.check for f in outcome.report.all_findings() if REGULAR in f.message}


# --- the bot, through the emulated GitHub --------------------------------------------------------

@pytest.fixture
def open_pr(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path,
            corpus: Path) -> Callable[[dict[str, Any]], tuple[Any, int]]:
    from bot.demo import SAMPLES

    def make(files: dict[str, Any]) -> tuple[Any, int]:
        github_emulator.create_repo(REPO, tree(SAMPLES / "taxonomy"))
        forge = app_forge(github_emulator, github_app, tmp_path, REPO)
        return forge, int(github_emulator.open_pull(REPO, "opposites", files=files, user="mallory")["number"])

    return make


def test_emulator_serves_links_and_submodules_as_github_does(github_emulator: EmulatorClient,
                                                             open_pr: Any) -> None:
    forge, number = open_pr({f"{LEAF}/qna.yaml": {"symlink": "../synonyms/qna.yaml"},
                             f"{LEAF}/attribution.txt": {"submodule": SUBMODULE_SHA, "url": "https://x.test/r"}})
    head = forge.pull_request(number).head_sha
    modes = {e.path: (e.mode, e.type) for e in forge.repo.get_git_tree(head, recursive=True).tree}
    assert modes[f"{LEAF}/qna.yaml"] == ("120000", "blob")
    assert modes[f"{LEAF}/attribution.txt"] == ("160000", "commit")
    # the contents API follows a link to a regular file: reading through it would see the other leaf
    assert forge.repo.get_contents(f"{LEAF}/qna.yaml", ref=head).decoded_content == \
        forge.repo.get_contents(f"{BASE_LEAF}/qna.yaml", ref=head).decoded_content
    assert forge.repo.get_contents(f"{LEAF}/attribution.txt", ref=head).type == "submodule"


@pytest.mark.parametrize("target", ["../synonyms/qna.yaml", "/etc/passwd"])
def test_bot_reports_a_symlinked_qna_file(open_pr: Any, target: str) -> None:
    files: dict[str, Any] = clean_contribution(LEAF)
    files[f"{LEAF}/qna.yaml"] = {"symlink": target}
    forge, number = open_pr(files)
    outcome = triage(forge, number, skip=SKIP)
    assert regular_file_errors(outcome) == {f"{LEAF}/qna.yaml": "file-name"}
    assert outcome is not None and outcome.check_run.conclusion == "failure"
    assert "symbolic link" in outcome.comment


def test_bot_reports_a_submodule_qna_file_and_a_linked_attribution(open_pr: Any) -> None:
    files: dict[str, Any] = clean_contribution(LEAF)
    files[f"{LEAF}/attribution.txt"] = {"symlink": "../synonyms/attribution.txt"}
    files["compositional_skills/linguistics/rhymes/qna.yaml"] = {"submodule": SUBMODULE_SHA, "url": "https://x.test"}
    forge, number = open_pr(files)
    outcome = triage(forge, number, skip=SKIP)
    assert regular_file_errors(outcome) == {f"{LEAF}/attribution.txt": "attribution",
                                            "compositional_skills/linguistics/rhymes/qna.yaml": "file-name"}
    assert "git submodule" in outcome.comment  # type: ignore[union-attr]


# --- bot dry-run, on a local git repository ------------------------------------------------------

def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "M", "GIT_AUTHOR_EMAIL": "m@example.org", "GIT_COMMITTER_NAME": "M",
           "GIT_COMMITTER_EMAIL": "m@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    """The sample taxonomy, and a branch whose qna.yaml links out of the repository, whose
    attribution.txt links to another leaf's, and that adds a leaf as a submodule."""
    repo = make_sample_repo(tmp_path / "taxonomy")
    _git(repo, "checkout", "-q", "-b", "hostile", "main")
    leaf = repo / LEAF
    leaf.mkdir(parents=True)
    (leaf / "qna.yaml").symlink_to("/etc/passwd")
    other = repo / "compositional_skills/linguistics/rhymes"
    other.mkdir(parents=True)
    for name, text in clean_contribution("x").items():
        (other / Path(name).name).write_text(text, encoding="utf-8")
    (other / "attribution.txt").unlink()
    (other / "attribution.txt").symlink_to("../synonyms/attribution.txt")
    _git(repo, "add", "-A")
    _git(repo, "update-index", "--add", "--cacheinfo",
         f"160000,{SUBMODULE_SHA},compositional_skills/linguistics/riddles/qna.yaml")
    _git(repo, "commit", "-q", "-s", "-m", "Add leaves")
    return repo


def test_dry_run_reports_links_and_submodules_and_never_reads_the_link_text(hostile_repo: Path) -> None:
    forge = dry_run(hostile_repo, "main", "hostile", skip=SKIP)
    run = forge.check_runs[-1]
    assert run.conclusion == "failure"
    located = {(a.path, a.title) for a in run.annotations if REGULAR in a.message}
    assert located == {(f"{LEAF}/qna.yaml", "file-name (error)"),
                       ("compositional_skills/linguistics/rhymes/qna.yaml", "attribution (error)"),
                       ("compositional_skills/linguistics/riddles/qna.yaml", "file-name (error)")}
    body = next(iter(forge.comments.values()))
    assert "/etc/passwd" not in body and "yaml-syntax" not in body
