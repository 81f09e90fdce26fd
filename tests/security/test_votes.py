"""Issue 11.1: a vote counts only for the head it was given on, as seen on this PR. Issue 22.5: only a
comment's author makes or changes a vote by editing it; a change of base branch resets the votes.

The attack: the author pushes commit B (a child of A) to a decoy PR, which the bot triages (a
`taxonomist/triage` run on B, for the decoy), closes it, collects LGTMs on A in their own PR and
fast-forwards it to B. Dated by the decoy's run, B looked like the head since before the LGTMs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bot.dashboard.store import Store
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


@pytest.fixture
def remembered(scene: Scene, tmp_path: Path) -> Scene:
    """The scene with the bot's store, as `bot serve` and `bot worker` run with one."""
    scene.ctx = dataclasses.replace(scene.ctx, store=Store(tmp_path / "store.sqlite3"))
    return scene


def _edit_as(scene: Scene, editor: str, comment: dict[str, Any], body: str) -> None:
    before = next(c["body"] for c in scene.state()["comments"] if c["id"] == comment["id"])
    edited = scene.gh.edit_comment_as(REPO, comment["id"], body)
    scene.deliver(scene.hooks.issue_comment(REPO, scene.number, edited, action="edited", previous_body=before,
                                            sender=editor))


def test_an_edit_by_another_account_makes_no_vote(remembered: Scene) -> None:
    scene = remembered
    scene.say("bob", "/lgtm")
    comment, _ = scene.say("alice", "Looks interesting, reading it now.")
    _edit_as(scene, "mallory", comment, "/lgtm")  # write access lets mallory edit alice's comment
    assert scene.status() == ("pending", "1/2 LGTM: bob")
    scene.say("tess", "Thanks both.")  # a later derivation still reads alice's own words
    assert scene.status() == ("pending", "1/2 LGTM: bob")
    _edit_as(scene, "alice", comment, "Read it.\n/lgtm")  # alice's own edit counts
    assert scene.status() == ("success", "2/2 LGTM")


def test_an_edit_by_another_account_cannot_cancel_a_vote_or_lift_a_hold(remembered: Scene) -> None:
    scene = remembered
    lgtm, _ = scene.say("alice", "/lgtm")
    hold, _ = scene.say("sam", "/hold")
    _edit_as(scene, "mallory", lgtm, "/lgtm cancel")
    _edit_as(scene, "mallory", hold, "never mind")
    _edit_as(scene, "eve", hold, "still never mind")  # a second stranger's edit keeps sam's own words too
    assert scene.status()[1].startswith("on hold (sam)") and "1/2 LGTM: alice" in scene.status()[1]


def test_a_change_of_base_branch_resets_votes_and_approvals_and_keeps_holds(scene: Scene) -> None:
    gh = scene.gh
    gh.push(REPO, {"README.next": "next\n"}, branch="next", from_branch="main")
    scene.say("alice", "/lgtm")
    scene.say("bob", "/lgtm")
    scene.say("sam", "/hold")
    scene.say("dave", "/approve")
    assert scene.merge_calls() == []
    next_second()
    gh.edit_pull(REPO, scene.number, base="next", actor=AUTHOR)
    scene.deliver(scene.hooks.pull_request(REPO, scene.number, "edited",
                                           changes={"base": {"ref": {"from": "main"}, "sha": {"from": "x"}}}))
    assert scene.status() == ("pending", "on hold (sam); 0/2 LGTM")
    scene.say("bob", "/hold cancel")  # the approval given for the old base does not merge into the new one
    assert scene.merge_calls() == []
    assert scene.status() == ("pending", "0/2 LGTM")
