"""Check runs, comments, labels, commit statuses and team membership, with GitHub's rules."""

from __future__ import annotations

from typing import Any

from tests.emulator_tests.helpers import REPO, Api, seed


def annotation(line: int) -> dict[str, Any]:
    return {"path": "compositional_skills/writing/limerick/qna.yaml", "start_line": line, "end_line": line,
            "annotation_level": "failure", "message": f"problem on line {line}"}


def test_check_run_is_created_updated_and_listed_for_its_ref(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    head = pull["head"]["sha"]
    created = api.call("POST", f"/repos/{REPO}/check-runs",
                       json={"name": "taxonomist/triage", "head_sha": head, "status": "in_progress"})
    assert created.status_code == 201
    run = created.json()
    assert run["status"] == "in_progress" and run["conclusion"] is None
    assert [p["number"] for p in run["pull_requests"]] == [1] and run["app"]["id"] == github_app.app_id
    for batch in (range(1, 51), range(51, 61)):
        answer = api.call("PATCH", f"/repos/{REPO}/check-runs/{run['id']}",
                          json={"output": {"title": "Triage", "summary": "2 problems",
                                           "annotations": [annotation(n) for n in batch]}})
        assert answer.status_code == 200
    done = api.call("PATCH", f"/repos/{REPO}/check-runs/{run['id']}", json={"conclusion": "failure"}).json()
    assert done["status"] == "completed" and done["completed_at"] is not None
    assert done["output"]["annotations_count"] == 60
    listed = api.get(f"/repos/{REPO}/commits/{head}/check-runs", params={"check_name": "taxonomist/triage"}).json()
    assert listed["total_count"] == 1 and listed["check_runs"][0]["id"] == run["id"]
    page = api.get(f"/repos/{REPO}/check-runs/{run['id']}/annotations", params={"per_page": 100}).json()
    assert len(page) == 60 and page[-1]["start_line"] == 60
    assert github_emulator.state(REPO)["check_runs"][0]["annotations"][0]["message"] == "problem on line 1"


def test_more_than_50_annotations_in_one_request_get_422(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    answer = api.call("POST", f"/repos/{REPO}/check-runs",
                      json={"name": "taxonomist/triage", "head_sha": pull["head"]["sha"],
                            "output": {"title": "t", "summary": "s",
                                       "annotations": [annotation(n) for n in range(51)]}})
    assert answer.status_code == 422
    if github_emulator.info()["validating"]:  # the description says maxItems 50 too: a recorded violation
        taken = github_emulator.take_violations()
        assert len(taken) == 1 and "(51 items) breaks `maxItems: 50`" in taken[0]["text"]
    assert github_emulator.state(REPO)["check_runs"] == []


def test_comments_are_created_listed_edited_and_deleted(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    github_emulator.comment_as("bob", REPO, 1, "first!")
    mine = api.call("POST", f"/repos/{REPO}/issues/1/comments", json={"body": "<!-- taxonomist:triage -->\nok"})
    assert mine.status_code == 201 and mine.json()["user"]["login"] == "taxonomist[bot]"
    comment_id = mine.json()["id"]
    edited = api.call("PATCH", f"/repos/{REPO}/issues/comments/{comment_id}",
                      json={"body": "<!-- taxonomist:triage -->\nv2"})
    assert edited.json()["body"].endswith("v2")
    others = [c["id"] for c in github_emulator.state(REPO)["comments"] if c["user"]["login"] == "bob"]
    refused = api.call("PATCH", f"/repos/{REPO}/issues/comments/{others[0]}", json={"body": "hijack"})
    assert refused.status_code == 403
    for n in range(33):
        github_emulator.comment_as("bob", REPO, 1, f"comment {n}")
    first_page = api.get(f"/repos/{REPO}/issues/1/comments")
    assert len(first_page.json()) == 30 and 'rel="next"' in first_page.headers["Link"]
    assert api.call("DELETE", f"/repos/{REPO}/issues/comments/{comment_id}").status_code == 204
    assert api.get(f"/repos/{REPO}/issues/comments/{comment_id}").status_code == 404


def test_labels_are_added_created_on_demand_and_removed(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    created = api.call("POST", f"/repos/{REPO}/labels", json={"name": "skill", "color": "0e8a16"})
    assert created.status_code == 201
    assert api.call("POST", f"/repos/{REPO}/labels", json={"name": "Skill"}).status_code == 422
    added = api.call("POST", f"/repos/{REPO}/issues/1/labels", json={"labels": ["skill", "triage-needed"]})
    assert [label["name"] for label in added.json()] == ["skill", "triage-needed"]
    assert {label["name"] for label in api.get(f"/repos/{REPO}/labels").json()} == {"skill", "triage-needed"}
    removed = api.call("DELETE", f"/repos/{REPO}/issues/1/labels/triage-needed")
    assert [label["name"] for label in removed.json()] == ["skill"]
    assert api.call("DELETE", f"/repos/{REPO}/issues/1/labels/triage-needed").status_code == 404
    issue = api.get(f"/repos/{REPO}/issues/1").json()
    assert [label["name"] for label in issue["labels"]] == ["skill"] and "pull_request" in issue
    assert github_emulator.state(REPO)["labels"]["1"] == ["skill"]


def test_commit_statuses_combine_per_context(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    head = pull["head"]["sha"]
    for state in ("pending", "success"):
        answer = api.call("POST", f"/repos/{REPO}/statuses/{head}",
                          json={"state": state, "context": "taxonomist/review", "description": "2 LGTMs"})
        assert answer.status_code == 201
    combined = api.get(f"/repos/{REPO}/commits/{head}/status").json()
    assert combined["state"] == "success" and combined["total_count"] == 1
    api.call("POST", f"/repos/{REPO}/statuses/{head}", json={"state": "failure", "context": "ci"})
    assert api.get(f"/repos/{REPO}/commits/{head}/status").json()["state"] == "failure"
    assert len(api.get(f"/repos/{REPO}/commits/{head}/statuses").json()) == 3


def test_team_membership_answers_200_for_members_and_404_otherwise(github_emulator, github_app) -> None:
    seed(github_emulator)
    github_emulator.add_team("octo-org", "taxonomy-maintainers", {"carol": "maintainer", "dave": "member"})
    api = Api(github_emulator, github_app)
    carol = api.get("/orgs/octo-org/teams/taxonomy-maintainers/memberships/carol")
    assert carol.status_code == 200 and carol.json() == {**carol.json(), "role": "maintainer", "state": "active"}
    assert api.get("/orgs/octo-org/teams/taxonomy-maintainers/memberships/alice").status_code == 404
    assert api.get("/orgs/octo-org/teams/nobody/memberships/carol").status_code == 404


def test_reviews_are_listed_with_the_commit_they_were_given_on(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    github_emulator.review_as("carol", REPO, 1, "APPROVED")
    api = Api(github_emulator, github_app)
    reviews = api.get(f"/repos/{REPO}/pulls/1/reviews").json()
    assert [(r["user"]["login"], r["state"], r["commit_id"]) for r in reviews] == [
        ("carol", "APPROVED", pull["head"]["sha"])]
