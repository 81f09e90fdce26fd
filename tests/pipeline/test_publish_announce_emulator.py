"""`taxonomist bot announce-build` against the GitHub emulator, through GitHubApp, PyGithub and real HTTP.

Configured as the weekly workflow configures it: environment variables naming the app, its key file
and the API's base URL (here the emulator's). The emulator checks every call against GitHub's REST
description (the `github_emulator` fixture fails the test at teardown otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.announce.run import LABEL, LABEL_COLOR
from taxonomist.cli import app
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp
from tests.emulator_tests.helpers import Api

REPO = "octo-org/taxonomy"
COMMIT = "c0ffee" + "0" * 34
MARKER = f"<!-- taxonomist:build:{COMMIT} -->"


def merged_pulls(emulator: EmulatorClient, github_app: GitHubApp) -> list[int]:
    """Two contributions, from alice and bob, opened and merged on the emulator."""
    emulator.create_repo(REPO, {"README.md": "# Taxonomy\n"})
    api = Api(emulator, github_app)
    numbers = []
    for user, leaf in (("alice", "haiku"), ("bob", "limerick")):
        pull = emulator.open_pull(REPO, f"{user}/{leaf}", user=user, title=f"Add {leaf}",
                                  files={f"compositional_skills/writing/{leaf}/qna.yaml": "version: 3\n"})
        merged = api.call("PUT", f"/repos/{REPO}/pulls/{pull['number']}/merge", json={"merge_method": "merge"})
        assert merged.status_code == 200, merged.text
        numbers.append(pull["number"])
    return numbers


def head_commits(emulator: EmulatorClient, numbers: list[int]) -> list[str]:
    return [emulator.state(REPO)["pulls"][str(n)]["head_sha"] for n in numbers]


def write_build(build: Path, commits: list[str], forced: bool = False) -> Path:
    """A published build whose leaves changed in `commits` (GitHub says which PR brought each in)."""
    build.mkdir(parents=True, exist_ok=True)
    report = {"taxonomy": {"commit": COMMIT, "commits": {sha: ["a"] for sha in commits}},
              "leaves": {"used": ["a", "b"]},
              "gate": {"passed": not forced}, "published": {"path": str(build / "published"), "forced": forced}}
    (build / "build.json").write_text(json.dumps(report))
    return build


def announce(build: Path, env: dict[str, str]) -> Any:
    return CliRunner().invoke(app, ["bot", "announce-build", str(build), "--repo", REPO], env=env)


def comments_by_pr(emulator: EmulatorClient) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for comment in emulator.state(REPO)["comments"]:
        found.setdefault(int(comment["issue_url"].rsplit("/", 1)[1]), []).append(comment)
    return found


@pytest.fixture
def env(tmp_path: Path, github_emulator: EmulatorClient, github_app: GitHubApp) -> dict[str, str]:
    """The app's settings as a user sets them: environment variables and the private key in a file."""
    key = tmp_path / "app-key.pem"
    key.write_text(github_app.private_key_pem)
    return {"TAXONOMIST_APP_ID": str(github_app.app_id), "TAXONOMIST_PRIVATE_KEY": str(key),
            "TAXONOMIST_GITHUB_API_URL": github_emulator.api_url,
            "TAXONOMIST_DATA_DIR": str(tmp_path / "bot-data")}


def test_each_merged_pr_gets_one_comment_and_the_label_and_a_rerun_posts_nothing_new(
        tmp_path: Path, github_emulator: EmulatorClient, github_app: GitHubApp, env: dict[str, str]) -> None:
    numbers = merged_pulls(github_emulator, github_app)
    assert all(github_emulator.state(REPO)["pulls"][str(n)]["merged"] for n in numbers)
    build = write_build(tmp_path / "build", head_commits(github_emulator, numbers))

    first = announce(build, env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"announced": numbers, "failed": {}}
    comments = comments_by_pr(github_emulator)
    assert sorted(comments) == numbers
    for number in numbers:
        (comment,) = comments[number]
        assert comment["body"].startswith(MARKER) and comment["user"]["login"] == github_app.bot_login
        assert github_emulator.state(REPO)["labels"][str(number)] == [LABEL]
    label = Api(github_emulator, github_app).get(f"/repos/{REPO}/labels/{LABEL}").json()
    assert (label["color"], bool(label["description"])) == (LABEL_COLOR, True)  # created, not GitHub's grey

    github_emulator.clear_calls()
    again = announce(build, env)
    assert again.exit_code == 0, again.output
    assert comments_by_pr(github_emulator) == comments  # untouched: same ids, same bodies
    writes = [c for c in github_emulator.calls() if c["method"] in ("POST", "PATCH", "PUT", "DELETE")
              and "/access_tokens" not in c["path"]]
    assert writes == []
    assert [github_emulator.state(REPO)["labels"][str(n)] for n in numbers] == [[LABEL], [LABEL]]

    rebuilt = write_build(tmp_path / "build", head_commits(github_emulator, numbers), forced=True)
    forced = announce(rebuilt, env)  # the text changes: edited
    assert forced.exit_code == 0, forced.output
    edited = comments_by_pr(github_emulator)
    for number in numbers:
        (comment,) = edited[number]
        assert comment["id"] == comments[number][0]["id"] and "was forced past" in comment["body"]


def test_a_commit_no_pull_request_brought_in_credits_nobody(
        tmp_path: Path, github_emulator: EmulatorClient, github_app: GitHubApp, env: dict[str, str]) -> None:
    first, second = merged_pulls(github_emulator, github_app)
    direct = github_emulator.push(REPO, {"compositional_skills/writing/ode/qna.yaml": "version: 3\n"}, branch="main",
                                  message="Add ode (#999)", author="alice")  # pushed to main: no pull request
    build = write_build(tmp_path / "build", [*head_commits(github_emulator, [first, second]), direct])

    result = announce(build, env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"announced": [first, second], "failed": {}}
    comments = comments_by_pr(github_emulator)
    assert sorted(comments) == [first, second] and all(len(c) == 1 for c in comments.values())
    labels = github_emulator.state(REPO)["labels"]
    assert labels[str(first)] == labels[str(second)] == [LABEL]
