"""Force pushes: the emulator records `head_ref_force_pushed` as GitHub does, and serves the PR's events."""

from __future__ import annotations

from tests.emulator_tests.helpers import REPO, Api, seed


def test_a_move_to_a_commit_that_is_not_a_descendant_is_a_recorded_force_push(github_emulator, github_app) -> None:
    first = seed(github_emulator)["head"]["sha"]
    second = github_emulator.push_to_pull(REPO, 1, {"more.txt": "more\n"})["sha"]  # a fast-forward: no event
    api = Api(github_emulator, github_app)
    assert api.get(f"/repos/{REPO}/issues/1/events").json() == []
    moved = github_emulator.force_push(REPO, 1, first, actor="alice")
    assert moved == {"sha": first, "before": second, "branch": "alice/new-skill"}
    (event,) = api.get(f"/repos/{REPO}/issues/1/events").json()
    assert event["event"] == "head_ref_force_pushed" and event["commit_id"] == first
    assert event["actor"]["login"] == "alice" and event["created_at"].endswith("Z")
    assert event["commit_url"].endswith(f"/commits/{first}")
    assert api.get(f"/repos/{REPO}/pulls/1").json()["head"]["sha"] == first


def test_forward_to_a_descendant_is_an_ordinary_push(github_emulator, github_app) -> None:
    first = seed(github_emulator)["head"]["sha"]
    second = github_emulator.push_to_pull(REPO, 1, {"more.txt": "more\n"})["sha"]
    github_emulator.force_push(REPO, 1, first)  # back: recorded
    github_emulator.force_push(REPO, 1, second)  # forward again: a fast-forward, not recorded
    events = Api(github_emulator, github_app).get(f"/repos/{REPO}/issues/1/events").json()
    assert [e["commit_id"] for e in events] == [first]
    assert github_emulator.state(REPO)["issue_events"] == events


def test_the_events_of_an_unknown_issue_are_not_found(github_emulator, github_app) -> None:
    seed(github_emulator)
    assert Api(github_emulator, github_app).get(f"/repos/{REPO}/issues/99/events").status_code == 404
