"""Every request and response is checked against GitHub's REST description; breaks are recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.emulator import openapi
from tests.emulator_tests.helpers import REPO, Api, seed

pytestmark = pytest.mark.corpus


@pytest.fixture(autouse=True)
def _needs_the_description(corpus: Path) -> None:
    """Every test here needs GitHub's REST description; the `corpus` fixture skips, saying why, without it."""


@pytest.fixture(scope="module")
def description(corpus: Path) -> openapi.OpenAPI:
    loaded = openapi.load(str(corpus / "github" / "rest-openapi.json"))
    assert loaded is not None
    return loaded


def test_literal_segments_win_over_parameters(description: openapi.OpenAPI) -> None:
    matched = description.match("GET", "/repos/o/r/issues/comments")
    assert matched is not None and matched[0].operation_id == "issues/list-comments-for-repo"
    operation, params = description.match("GET", "/repos/o/r/contents/a/b/qna.yaml")
    assert operation.operation_id == "repos/get-content" and params["path"] == "a/b/qna.yaml"
    assert description.match("GET", "/repos/o/r/no-such-thing") is None


def test_request_parameters_and_bodies_are_checked(description: openapi.OpenAPI) -> None:
    operation, params = description.match("PATCH", "/repos/o/r/check-runs/x")
    problems = description.request_errors(operation, params, [("colour", "red")], {"status": "done"}, True)
    assert any("'check_run_id': 'x' is not a integer" in p for p in problems)
    assert any("'colour' is not declared" in p for p in problems)
    assert any(p.startswith("body: .status:") for p in problems)
    operation, params = description.match("POST", "/repos/o/r/issues/1/comments")
    assert description.request_errors(operation, params, [], None, False) == ["a JSON request body is required"]


def test_responses_follow_oas_3_0_nullable_and_undocumented_statuses(description: openapi.OpenAPI) -> None:
    operation, _ = description.match("GET", "/repos/o/r/check-runs/1")
    errors = description.response_errors(operation, 200, {"id": "1"}, True)
    assert errors and any("'name' is a required property" in e for e in errors)
    assert any(".id: '1' is not of type 'integer'" in e for e in errors)
    assert description.response_errors(operation, 201, {}, True) == [
        "status 201 is not documented for checks/get"]
    # GitHub answers 5xx anywhere: an undocumented error status is checked as a basic error.
    assert description.response_errors(operation, 502, {"message": "Server Error"}, True) == []
    assert description.response_errors(operation, 502, {"message": 5}, True) != []
    # `nullable: true` admits null even where an enum does not list it (an unfinished check run).
    assert description.errors("#/components/schemas/check-run/properties/conclusion", None) == []
    assert description.errors("#/components/schemas/check-run/properties/conclusion", "maybe") != []


def test_an_invalid_request_gets_422_and_a_recorded_violation(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    answer = api.call("POST", f"/repos/{REPO}/issues/1/comments", json={"body": 42})
    assert answer.status_code == 422 and "body: .body: 42 is not of type 'string'" in answer.json()["message"]
    with pytest.raises(AssertionError, match=r"1 call\(s\) broke GitHub's REST description"):
        github_emulator.assert_no_violations()
    assert github_emulator.take_violations()[0]["where"] == "request"
    github_emulator.assert_no_violations()


def test_calls_github_does_not_have_or_the_emulator_lacks_are_violations(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    assert api.get(f"/repos/{REPO}/pulls/1/reviewers-of-the-week").status_code == 404
    assert api.get(f"/repos/{REPO}/deployments").status_code == 404
    problems = [v["problems"][0] for v in github_emulator.take_violations()]
    assert problems == ["GitHub's REST API has no such operation",
                        "the emulator does not implement this GitHub operation"]
