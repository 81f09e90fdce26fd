"""Routing webhooks to handler jobs, and the coalescing keys that make stale jobs no-ops."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.service.handlers import load_handlers
from bot.service.router import Job, Router

TRIAGE = "triage"
REVIEW = "review"
LIFECYCLE = "lifecycle"
PRECHECK = "precheck"


def pr_event(action: str = "synchronize", number: int = 7, sha: str = "a" * 40) -> dict[str, Any]:
    return {"action": action, "number": number, "repository": {"full_name": "octo/tax"},
            "installation": {"id": 9}, "pull_request": {"number": number, "head": {"sha": sha}}}


def test_pull_request_events_make_one_coalescing_triage_job() -> None:
    router = load_handlers()
    jobs = router.jobs_for("pull_request", "d1", pr_event(), time.time())
    # the review workflow (a push drops LGTMs), the lifecycle, and the model's precheck on the model queue
    assert sorted(j.route for j in jobs) == sorted([TRIAGE, REVIEW, LIFECYCLE, PRECHECK])
    assert {j.route: router.queue_of(j) for j in jobs} == {TRIAGE: "triage", REVIEW: "triage", LIFECYCLE: "triage",
                                                          PRECHECK: "model"}
    (job,) = [j for j in jobs if j.route == TRIAGE]
    assert (job.repo, job.installation, job.pr, job.head_sha) == ("octo/tax", 9, 7, "a" * 40)
    (newer,) = [j for j in router.jobs_for("pull_request", "d2", pr_event(sha="b" * 40), time.time())
                if j.route == TRIAGE]
    assert newer.key == job.key  # the newer head supersedes the older job
    (other,) = [j for j in router.jobs_for("pull_request", "d3", pr_event(number=8), time.time()) if j.route == TRIAGE]
    assert other.key != job.key


def test_check_suite_rerequested_targets_each_pull_request() -> None:
    payload = {"action": "rerequested", "repository": {"full_name": "octo/tax"},
               "check_suite": {"head_sha": "c" * 40, "pull_requests": [{"number": 1}, {"number": 2}]}}
    jobs = load_handlers().jobs_for("check_suite", "d", payload, 0.0)
    assert sorted(j.pr for j in jobs) == [1, 2] and {j.route for j in jobs} == {TRIAGE}


def test_unrouted_events_make_no_jobs() -> None:
    router = load_handlers()
    assert router.jobs_for("pull_request", "d", pr_event(action="labeled"), 0.0) == []
    assert router.jobs_for("issue_comment", "d", {"action": "created", "issue": {"number": 3}}, 0.0) == []


def test_decorator_registration_and_non_coalescing_keys() -> None:
    router = Router()
    seen: list[int | None] = []

    @router.on("issue_comment", "created", name="on_comment")
    def on_comment(job: Job, ctx: Any) -> None:
        seen.append(job.pr)

    payload = {"action": "created", "repository": {"full_name": "o/r"}, "issue": {"number": 4, "pull_request": {}}}
    a = router.jobs_for("issue_comment", "d1", payload, 0.0)
    b = router.jobs_for("issue_comment", "d2", copy.deepcopy(payload), 0.0)
    assert len(a) == len(b) == 1 and a[0].key != b[0].key  # every command is kept
    router.routes[a[0].route].handler(a[0], None)
    assert seen == [4]
    assert Job.from_dict(a[0].to_dict()) == a[0]


def test_push_refreshes_index_once_per_repository() -> None:
    payload = {"ref": "refs/heads/main", "after": "d" * 40, "repository": {"full_name": "o/r"}}
    jobs = load_handlers().jobs_for("push", "d", payload, 0.0)
    assert sorted((j.route.rsplit(".", 1)[-1], j.pr) for j in jobs) == [
        ("lifecycle_base_moved", None), ("refresh_merged_taxonomy", None)]
