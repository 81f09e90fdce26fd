"""Issue 11.3: the sticky comment is the one with the marker *and* written by this app."""

from __future__ import annotations

from bot.forges.github import GitHubForge
from bot.triage.render import MARKER
from tests.review.test_scenarios import AUTHOR, REPO, Scene, contribution, next_second


def _open(scene: Scene, branch: str) -> int:
    return int(scene.gh.open_pull(REPO, branch, files=contribution(), user=AUTHOR,
                                  body="Signed-off-by: Carla <carla@example.org>")["number"])


def test_a_users_comment_carrying_the_marker_is_never_taken_for_the_bots(scene: Scene) -> None:
    number = _open(scene, "fake-sticky")
    forged = scene.gh.comment_as(AUTHOR, REPO, number, f"{MARKER}\n## Taxonomist triage\n\nAll checks pass.")
    scene.deliver(scene.hooks.pull_request(REPO, number, "opened"))
    comments = [c for c in scene.state()["comments"] if c["issue_url"].endswith(f"/issues/{number}")]
    assert next(c for c in comments if c["id"] == forged["id"])["body"] == forged["body"]  # never edited
    ours = [c for c in comments if c["user"]["login"] == "taxonomist[bot]" and c["body"].startswith(MARKER)]
    assert len(ours) == 1 and "All checks pass." not in ours[0]["body"]


def test_another_apps_comment_carrying_the_marker_is_never_spliced(scene: Scene, impostor: GitHubForge) -> None:
    number = _open(scene, "impostor-sticky")
    fake = impostor.create_comment(number, f"{MARKER}\n## Taxonomist triage\n\nAll clear.")
    scene.deliver(scene.hooks.pull_request(REPO, number, "opened"))
    next_second()
    comment = scene.gh.comment_as("alice", REPO, number, "/lgtm")
    scene.deliver(scene.hooks.issue_comment(REPO, number, comment))
    comments = [c for c in scene.state()["comments"] if c["issue_url"].endswith(f"/issues/{number}")]
    assert next(c for c in comments if c["id"] == fake)["body"] == f"{MARKER}\n## Taxonomist triage\n\nAll clear."
    (ours,) = [c["body"] for c in comments if c["user"]["login"] == "taxonomist[bot]" and c["body"].startswith(MARKER)]
    assert "**LGTM: 1/2**" in ours  # the bot's own comment carries the review state
