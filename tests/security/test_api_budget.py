"""Issue 22.4: a 3,000-file push costs at most 500 calls; other apps' check runs cost none.
Issue 11.9: comments without commands cost nothing, commands are rate-limited per user, a merge
refused by a rate limit is retried (poison jobs: `tests/bot/test_queue.py`,
`test_unreportable_failure_is_poison_marked_done_with_a_metric`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from github.GithubException import GithubException, RateLimitExceededException

from bot.comment.sticky import MARKER
from bot.dashboard.store import PullRow
from bot.forges.github import GitHubForge
from bot.lifecycle.handler import REBASE_CHECKS
from bot.review import handler as review
from bot.service.handlers import load_handlers
from tests.dashboard.harness import REPO, World, clean_leaf
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.review.test_scenarios import Scene


def comment_event(body: str, action: str = "created", user: str = "sam", previous: str | None = None) -> dict:
    payload: dict[str, Any] = {"action": action, "repository": {"full_name": "o/r"}, "installation": {"id": 1},
                               "issue": {"number": 4, "pull_request": {}},
                               "comment": {"id": 9, "body": body, "user": {"login": user, "type": "User"}}}
    if previous is not None:
        payload["changes"] = {"body": {"from": previous}}
    return payload


def review_jobs(payload: dict) -> list:
    return [j for j in load_handlers().jobs_for("issue_comment", "d", payload, 0.0) if j.route == "review"]


def test_a_comment_without_a_command_makes_no_job() -> None:
    assert review_jobs(comment_event("Looks great, thanks!\n> /lgtm (quoted)")) == []
    assert len(review_jobs(comment_event("Looks great.\n/lgtm"))) == 1
    assert len(review_jobs(comment_event("/lgmt"))) == 1  # a near-command gets its reply


def test_an_edit_or_deletion_of_a_commanding_comment_still_counts() -> None:
    assert len(review_jobs(comment_event("never mind", action="edited", previous="/lgtm"))) == 1
    assert len(review_jobs(comment_event("/lgtm", action="deleted"))) == 1
    assert review_jobs(comment_event("typo fixed", action="edited", previous="typo")) == []


def test_comments_by_bots_make_no_job() -> None:
    payload = comment_event("/lgtm", user="taxonomist[bot]")
    assert review_jobs(payload) == []


def test_a_plain_comment_costs_no_api_call(scene: Scene) -> None:
    scene.gh.clear_calls()
    scene.say("sam", "Thanks for the contribution!")
    assert scene.gh.calls() == []


def test_commands_are_rate_limited_per_user() -> None:
    jobs = [review_jobs(comment_event("/hold")) for _ in range(review.COMMAND_RATE[0] + 3)]
    assert [len(j) for j in jobs] == [1] * review.COMMAND_RATE[0] + [0] * 3
    assert len(review_jobs(comment_event("/hold", user="tess"))) == 1  # another user is not held back


class RefusingRequester:
    def __init__(self, exc: GithubException) -> None:
        self.exc = exc

    def requestJsonAndCheck(self, *args: Any, **kwargs: Any) -> Any:  # PyGithub's name
        raise self.exc


class Repo:
    url = "https://api.example/repos/o/r"


def forge_refusing(exc: GithubException) -> GitHubForge:
    forge = GitHubForge(Repo(), RefusingRequester(exc), app_id=1)
    forge.pacer.before_call = lambda requester: None  # type: ignore[method-assign]
    return forge


def test_a_merge_refused_by_a_rate_limit_is_retried_not_reported_as_failed() -> None:
    limited = RateLimitExceededException(403, {"message": "API rate limit exceeded for installation"}, {})
    with pytest.raises(RateLimitExceededException):
        forge_refusing(limited).merge(4, "a" * 40, "squash")
    secondary = GithubException(403, {"message": "You have exceeded a secondary rate limit."}, {})
    with pytest.raises(GithubException):
        forge_refusing(secondary).merge(4, "a" * 40, "squash")
    refused = GithubException(405, {"message": "Pull Request is not mergeable"}, {})
    assert forge_refusing(refused).merge(4, "a" * 40, "squash") == "Pull Request is not mergeable (HTTP 405)"


def test_hostile_payload_shapes_make_no_job_and_no_error() -> None:
    payloads = (comment_event("/lgtm") | {"changes": ["x"]}, comment_event("/lgtm") | {"comment": "x"},
                comment_event("x") | {"changes": {"body": {"from": 7}}})
    assert [len(review_jobs(p)) for p in payloads] == [1, 0, 0]


def check_run_event(app_id: int, action: str = "completed") -> dict:
    return {"action": action, "repository": {"full_name": "o/r"}, "installation": {"id": 1},
            "check_run": {"id": 5, "name": "taxonomist/triage", "head_sha": "a" * 40, "external_id": "pr:4",
                          "app": {"id": app_id, "slug": "other"}, "pull_requests": [{"number": 4}]}}


def test_check_runs_of_other_apps_make_no_job_at_intake() -> None:
    router = load_handlers()
    router.app_id = 1
    assert router.jobs_for("check_run", "d", check_run_event(2), 0.0) == []
    assert router.jobs_for("check_run", "d", check_run_event(2, "rerequested"), 0.0) == []
    assert router.jobs_for("check_run", "d", {**check_run_event(1), "check_run": "x"}, 0.0) == []
    suite = {"action": "rerequested", "repository": {"full_name": "o/r"},
             "check_suite": {"id": 3, "head_sha": "a" * 40, "app": {"id": 2}, "pull_requests": [{"number": 4}]}}
    assert router.jobs_for("check_suite", "d", suite, 0.0) == []
    assert [j.route for j in router.jobs_for("check_run", "d", check_run_event(1), 0.0)] == ["review"]


def test_a_push_of_a_3000_file_pull_request_costs_at_most_500_calls(
        github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path, corpus: Path) -> None:
    gh = github_emulator
    config = "review:\n  maintainers: [mona]\n  approvers: [ada]\nlifecycle:\n  size: {enabled: true}\n"
    world = World.make(gh, github_app, tmp_path, corpus, config)
    world.service.precheck = None  # the model's own budget is measured apart (benchmarks/bench_precheck.py)
    files: dict[str, str] = {}
    for i in range(1500):  # 3,000 files: 1,500 distinct leaves, each a qna.yaml and its attribution.txt
        leaf = clean_leaf(f"compositional_skills/area/leaf{i:04}", note=f"\nLeaf {i}.\n")
        files.update({p: t + f"\n# leaf {i}\n" if p.endswith("qna.yaml") else t for p, t in leaf.items()})
    number = int(gh.open_pull(REPO, "big", files=files, user="carla",
                              body="Adds leaves.\n\nSigned-off-by: Carla <carla@example.org>")["number"])
    gh.settings(rate_limit=100_000)
    gh.clear_calls()
    world.triaged(number, world.hooks.pull_request(REPO, number, "opened"))
    calls = gh.calls()
    assert len(calls) <= 500, len(calls)
    assert len([c for c in calls if "/git/trees/" in c["path"]]) == 1  # the head's tree, read once
    sticky = next(b for b in world.bot_comments(number) if b.startswith(MARKER))
    assert "reads at most 100 per pull request" in sticky and "1400 were not checked" in sticky
    assert "size/XL" in world.labels(number)  # the size counts every leaf, read or not


def test_a_push_to_the_base_costs_a_bounded_number_of_calls(
        github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path, corpus: Path) -> None:
    gh = github_emulator
    world = World.make(gh, github_app, tmp_path, corpus, "lifecycle:\n  needs_rebase: {enabled: true}\n")
    numbers = [int(gh.open_pull(REPO, f"b{i}", files=clean_leaf(f"compositional_skills/area/b{i}"), user="carla")
                   ["number"]) for i in range(3 * REBASE_CHECKS)]
    for n in numbers:
        world.store.upsert_pull(PullRow(repo=REPO, number=n, title="t", author="carla", html_url="", state="open",
                                        draft=False, created_at=0.0, activity_at=0.0, waiting_since=0.0,
                                        head_sha="", base_ref="main"))
    seen: set[int] = set()
    for _ in range(3):
        before = world.state()["branches"]["main"]
        after = gh.push(REPO, {"README.md": f"{before}\n"}, branch="main", author="mona")
        gh.clear_calls()
        world.deliver(world.hooks.push(REPO, "refs/heads/main", before, after, sender="mona"))
        reads = [c["path"] for c in gh.calls("GET", "/pulls/")]
        assert len(gh.calls()) <= REBASE_CHECKS + 5 and len(reads) <= REBASE_CHECKS, len(gh.calls())
        seen |= {int(p.rsplit("/", 1)[1]) for p in reads}
    assert seen == set(numbers)  # in turn: three pushes looked at every open PR once
