"""Injected faults: error statuses, rate limits (primary and secondary) and slow answers."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulator.client import EmulatorError
from tests.emulator_tests.helpers import REPO, Api, seed


def test_a_status_fault_hits_n_calls_then_the_real_answer_returns(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    github_emulator.inject_fault("status", method="GET", path="/repos/*/pulls/*", status=502, times=2)
    statuses = [api.get(f"/repos/{REPO}/pulls/1").status_code for _ in range(3)]
    assert statuses == [502, 502, 200]
    assert api.get(f"/repos/{REPO}").status_code == 200  # the pattern does not match
    recorded = github_emulator.calls(path="/pulls/1")
    assert [(c["status"], c["fault"]) for c in recorded] == [(502, "status"), (502, "status"), (200, None)]


def test_rate_limit_faults_carry_github_headers(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    github_emulator.inject_fault("secondary_rate_limit", method="POST", path="*/comments", retry_after=7, times=1)
    github_emulator.inject_fault("rate_limit", method="GET", path="*/files", retry_after=30, times=1)
    secondary = api.call("POST", f"/repos/{REPO}/issues/1/comments", json={"body": "hi"})
    assert secondary.status_code == 403 and secondary.headers["Retry-After"] == "7"
    assert "secondary rate limit" in secondary.json()["message"]
    primary = api.get(f"/repos/{REPO}/pulls/1/files")
    assert primary.status_code == 403 and primary.headers["X-RateLimit-Remaining"] == "0"
    assert int(primary.headers["X-RateLimit-Reset"]) > 0
    github_emulator.inject_fault("status", status=429, retry_after=1, times=1)
    too_many = api.get(f"/repos/{REPO}")
    assert too_many.status_code == 429 and too_many.headers["Retry-After"] == "1"
    assert github_emulator.state(REPO)["comments"] == []  # a refused call changes nothing


def test_a_delay_longer_than_the_client_timeout_times_out_but_the_call_still_happens(github_emulator, github_app):
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    github_emulator.inject_fault("delay", method="POST", path="*/labels", delay_s=1.0, times=1)
    with pytest.raises(requests.Timeout):
        api.call("POST", f"/repos/{REPO}/issues/1/labels", json={"labels": ["skill"]}, timeout=0.3)
    deadline = time.monotonic() + 5
    while not github_emulator.state(REPO)["labels"]["1"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert github_emulator.state(REPO)["labels"]["1"] == ["skill"]  # GitHub may act on a call the client gave up


def test_probabilistic_faults_repeat_with_the_same_seed(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)

    def pattern() -> list[int]:
        github_emulator.clear_faults()
        github_emulator.inject_fault("status", path=f"/repos/{REPO}", status=500, probability=0.5, seed=7)
        return [api.get(f"/repos/{REPO}").status_code for _ in range(12)]

    first, second = pattern(), pattern()
    assert first == second and {500, 200} == set(first)


def test_a_malformed_fault_is_refused_with_the_reason(github_emulator) -> None:
    with pytest.raises(EmulatorError, match="needs `status`"):
        github_emulator.inject_fault("status")
    with pytest.raises(EmulatorError, match="unknown fault fields"):
        github_emulator.inject_fault("delay", delay_s=1, sometimes=True)
