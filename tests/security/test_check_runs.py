"""Issue 11.2: only this app's own `taxonomist/triage` runs count (merge gate, head dating)."""

from __future__ import annotations

from typing import Any

from bot.forges.github import GitHubForge
from bot.triage.render import CHECK_RUN_NAME
from tests.review.test_scenarios import AUTHOR, REPO, Scene, contribution, next_second


def _run(forge: GitHubForge, head: str, number: int, **fields: Any) -> int:
    """A check run made through the raw API, tagged as the bot tags its runs for PR NUMBER."""
    return forge.repo.create_check_run(name=CHECK_RUN_NAME, head_sha=head, external_id=f"taxonomist:pr{number}",
                                       **fields).id


def test_another_apps_run_named_like_ours_never_unblocks_a_merge(scene: Scene, impostor: GitHubForge) -> None:
    head = scene.gh.push_to_pull(REPO, scene.number, contribution("\n"), author=AUTHOR)["sha"]
    _run(scene.ctx.forge, head, scene.number, status="in_progress")  # ours: started, not finished
    next_second()
    fake = _run(impostor, head, scene.number, status="completed", conclusion="success",  # even with our tag
                output={"title": "All good", "summary": "All good"})
    (run,) = [r for r in scene.state()["check_runs"] if r["id"] == fake]
    scene.deliver(scene.hooks.check_run(REPO, run, sender="impostor[bot]", action="completed"))
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    comment, _ = scene.say("dave", "/approve")
    assert scene.merge_calls() == []
    assert "the triage check to finish" in scene.reply_to(comment)[0]


def test_another_apps_run_does_not_date_the_head(scene: Scene, impostor: GitHubForge) -> None:
    """A run the impostor starts on a commit before it is pushed to the PR must not date it."""
    b = scene.gh.push(REPO, contribution("\nlater"), branch="side", from_branch="opposites", author=AUTHOR)
    _run(impostor, b, scene.number, status="in_progress")
    next_second()
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    moved = scene.gh.force_push(REPO, scene.number, b)
    scene.triaged(scene.hooks.pull_request(REPO, scene.number, "synchronize", before=moved["before"]))
    assert scene.status() == ("pending", "0/2 LGTM")
