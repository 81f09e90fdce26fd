"""Issue 11.1: a vote counts only for the head it was given on, as seen on this PR.

The attack: the author pushes commit B (a child of A) to a decoy PR, which the bot triages (a
`taxonomist/triage` run on B, for the decoy), closes it, collects LGTMs on A in their own PR and
fast-forwards it to B. Dated by the decoy's run, B looked like the head since before the LGTMs.
"""

from __future__ import annotations

from tests.review.test_scenarios import AUTHOR, REPO, Scene, contribution, next_second


def test_votes_do_not_follow_a_commit_from_a_decoy_pull_request(scene: Scene) -> None:
    gh = scene.gh
    b = gh.push(REPO, contribution("\nmore"), branch="decoy", from_branch="opposites", author=AUTHOR)
    decoy = int(gh.open_pull(REPO, "decoy", user=AUTHOR, body="Signed-off-by: Carla <carla@example.org>")["number"])
    scene.deliver(scene.hooks.pull_request(REPO, decoy, "opened"))
    assert [r for r in scene.state()["check_runs"] if r["head_sha"] == b]  # the decoy's run dates B
    gh.edit_pull(REPO, decoy, state="closed")
    next_second()
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    scene.say(AUTHOR, "/hold")
    assert scene.status() == ("pending", "on hold (carla); 2/2 LGTM: alice, bob")
    moved = gh.force_push(REPO, scene.number, b)  # B descends from A: an ordinary push, no event
    assert scene.state()["issue_events"] == []
    scene.triaged(scene.hooks.pull_request(REPO, scene.number, "synchronize", before=moved["before"]))
    scene.say(AUTHOR, "/hold cancel")
    assert scene.head == b
    assert scene.status() == ("pending", "0/2 LGTM")
    scene.say("dave", "/approve")
    assert scene.merge_calls() == []
