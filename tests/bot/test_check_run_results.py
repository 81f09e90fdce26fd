"""One result per check run: re-triage never piles annotations onto a run (the API only appends).

Against the GitHub emulator through the real PyGithub forge: a retried triage with the same
findings leaves the one check run alone, a retry after a crash halfway through the annotation
batches resumes where it stopped, and a re-triage whose findings differ (the base branch's
configuration changed) starts a new run for the head, which GitHub shows as the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from github.GithubException import GithubException

from bot.triage.render import CHECK_RUN_NAME
from bot.triage.run import triage
from tests.bot.world import app_forge, clean_contribution, tree
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import ORG
from tests.emulator.plugin import GitHubApp as EmulatedApp

REPO = f"{ORG}/taxonomy"
LEAF = "compositional_skills/linguistics/opposites"
SKIP = ("content",)
ANNOTATED_LINES = 60  # more than one batch of 50


def contribution(lines: int = ANNOTATED_LINES) -> dict[str, str]:
    """A clean leaf plus LINES comment lines with trailing spaces: one yamllint annotation each."""
    files = clean_contribution(LEAF)
    files[f"{LEAF}/qna.yaml"] += "".join(f"# note {i} \n" for i in range(lines))
    return files


@pytest.fixture
def open_pr(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path,
            corpus: Path) -> Callable[[dict[str, str]], tuple[Any, int, str]]:
    """Open a PR adding FILES; returns the app's forge, the PR number and its head."""
    from bot.demo import SAMPLES

    def make(files: dict[str, str]) -> tuple[Any, int, str]:
        base = tree(SAMPLES / "taxonomy")
        base[".github/taxonomist.yml"] = "checks:\n  yamllint: '{extends: relaxed}'\n"
        github_emulator.create_repo(REPO, base)
        forge = app_forge(github_emulator, github_app, tmp_path, REPO)
        pull = github_emulator.open_pull(REPO, "opposites", files=files, user="carla")
        return forge, int(pull["number"]), pull["head"]["sha"]

    return make


def runs_on(gh: EmulatorClient, head: str) -> list[dict[str, Any]]:
    return sorted((r for r in gh.state(REPO)["check_runs"] if r["head_sha"] == head and r["name"] == CHECK_RUN_NAME),
                  key=lambda r: r["id"])


def annotation_keys(run: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(a["path"], a["start_line"], a["message"]) for a in run["annotations"]]


def test_a_retried_triage_leaves_the_one_check_run_alone(github_emulator: EmulatorClient, open_pr: Any) -> None:
    forge, number, head = open_pr(contribution())
    triage(forge, number, skip=SKIP)
    (run,) = runs_on(github_emulator, head)
    assert run["conclusion"] == "failure" and len(run["annotations"]) >= ANNOTATED_LINES
    assert run["external_id"].startswith("taxonomist:")
    github_emulator.clear_calls()
    triage(forge, number, skip=SKIP)  # a redelivery, a retried job
    (again,) = runs_on(github_emulator, head)
    assert again["id"] == run["id"] and annotation_keys(again) == annotation_keys(run)
    assert github_emulator.calls("PATCH", "/check-runs/") == [] and github_emulator.calls("POST", "/check-runs") == []


def test_a_retry_after_a_crash_between_batches_resumes_without_duplicates(github_emulator: EmulatorClient,
                                                                          open_pr: Any) -> None:
    forge, number, head = open_pr(contribution())
    # the worker dies after the first batch of 50 went through
    original = forge.add_annotations
    sent: list[int] = []

    def crash_after_first_batch(run_id: int, result: Any, batch: list[Any]) -> None:
        if sent:
            raise GithubException(502, {"message": "Server Error"}, None)
        sent.append(len(batch))
        original(run_id, result, batch)

    forge.add_annotations = crash_after_first_batch
    with pytest.raises(GithubException):
        triage(forge, number, skip=SKIP)
    (half,) = runs_on(github_emulator, head)
    assert half["status"] == "in_progress" and len(half["annotations"]) == 50 == sent[0]
    forge.add_annotations = original
    triage(forge, number, skip=SKIP)  # the job's retry
    (run,) = runs_on(github_emulator, head)
    keys = annotation_keys(run)
    assert run["id"] == half["id"] and run["status"] == "completed"
    assert len(keys) == len(set(keys)) >= ANNOTATED_LINES  # every annotation exactly once


def test_different_findings_start_a_new_check_run_for_the_head(github_emulator: EmulatorClient,
                                                               open_pr: Any) -> None:
    forge, number, head = open_pr(contribution())
    triage(forge, number, skip=SKIP)
    (old,) = runs_on(github_emulator, head)
    github_emulator.push(REPO, {".github/taxonomist.yml": "checks:\n  yamllint: '{extends: relaxed, rules: "
                                "{trailing-spaces: disable}}'\n"})  # the base branch's configuration changes
    triage(forge, number, skip=SKIP)  # a /recheck
    before, new = runs_on(github_emulator, head)
    assert before["id"] == old["id"] and annotation_keys(before) == annotation_keys(old)  # left as it was
    assert not any("trailing spaces" in a["message"] for a in new["annotations"])
    assert new["conclusion"] in ("success", "neutral") and new["external_id"] != old["external_id"]
    latest = forge.find_check_run(head, CHECK_RUN_NAME)
    assert latest is not None and latest.id == new["id"]  # what GitHub shows
