"""Reconciliation reads GitHub's answers as hostile data (issue 24): a delivery-log entry with the wrong types
or a crafted id, a PR list that never ends or changes while it is paged. Nothing crashes, only a validated
integer reaches a URL, and nothing is queued twice."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from github.GithubException import GithubException
from huey import SqliteHuey
from prometheus_client import REGISTRY

from bot.forges.forge import ExistingCheckRun
from bot.reconcile import run as reconcile_run
from bot.reconcile.run import Reconciler
from bot.service.handlers import load_handlers
from bot.service.queue import JobQueue

NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def sha(n: int) -> str:
    return f"{n:040x}"


def pull(n: int, head: int | None = None) -> dict[str, Any]:
    return {"number": n, "head": {"sha": sha(head if head is not None else n)}, "updated_at": NOW}


class FakeRequester:
    """GitHub's answers by path: a list of pages, each (items, has_next); every call is recorded."""

    def __init__(self, pages: dict[str, list[Any]]) -> None:
        self.pages = pages
        self.calls: list[tuple[str, str]] = []

    def requestJsonAndCheck(self, verb: str, url: str, parameters: Any = None) -> tuple[dict, Any]:
        self.calls.append((verb, url))
        if verb == "POST":
            return {}, {}
        path, _, page = url.partition("?page=")
        number = int(page or 1)
        pages = self.pages[path]
        items = pages[min(number, len(pages)) - 1]
        more = number < len(pages) or pages[-1] == "forever"
        link = f'<{path}?page={number + 1}>; rel="next"' if more else None
        return ({"link": link} if link else {}), ([] if items == "forever" else items)


class FakeForge:
    def __init__(self, requester: FakeRequester, triaged: set[str]) -> None:
        self.requester = requester
        self.triaged = triaged

    def find_check_run(self, head_sha: str, name: str, *, pr: int | None = None) -> ExistingCheckRun | None:
        return ExistingCheckRun(1, "completed") if head_sha in self.triaged else None


class FakeApp:
    def __init__(self, requester: FakeRequester, triaged: set[str] = frozenset()) -> None:
        self.integration = type("Integration", (), {"requester": requester})()
        self.requester = requester
        self.triaged = set(triaged)

    def installation_of(self, repo: str) -> int:
        return 1

    def installation_requester(self, installation: int) -> FakeRequester:
        return self.requester

    def forge(self, repo: str, installation: int | None) -> FakeForge:
        return FakeForge(self.requester, self.triaged)


@pytest.fixture
def queue(tmp_path: Path) -> JobQueue:
    return JobQueue(SqliteHuey("t", filename=str(tmp_path / "q.db")), queue_of=load_handlers().queue_of)


def queued(queue: JobQueue) -> list[str]:
    return sorted(f"{job.route}#{job.pr}" for job in queue.unfinished())


def deliveries(*entries: Any) -> dict[str, list[Any]]:
    return {"/app/installations": [[]], "/app/hook/deliveries": [list(entries)]}


def test_hostile_delivery_log_entries_are_skipped_and_never_reach_a_url(queue: JobQueue) -> None:
    good = {"id": 41, "guid": "6d1c1f3e-0000-4000-8000-000000000001", "delivered_at": NOW, "status_code": 502}
    hostile = [
        "not an object", None, 7,
        {**good, "id": "42/../../../repos/octo/taxonomy/merges"},  # a path in place of an id
        {**good, "id": True}, {**good, "id": -5}, {**good, "id": 2**70},  # a bool, a negative, past int64
        {**good, "id": 43, "guid": "../../etc\npasswd"}, {**good, "id": 44, "guid": ["x"]},
        {**good, "id": 45, "guid": "g" * 5000},
        {**good, "id": 46, "status_code": "502"}, {**good, "id": 47, "delivered_at": "yesterday"},
        {**good, "id": 48, "delivered_at": {"$date": 1}},
    ]
    requester = FakeRequester(deliveries(*hostile, good))
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run()
    assert report.redelivered == [41]
    assert report.skipped == len(hostile)
    posts = [url for verb, url in requester.calls if verb == "POST"]
    assert posts == ["/app/hook/deliveries/41/attempts"]


def test_a_delivery_log_that_never_ends_is_read_only_so_far(queue: JobQueue, monkeypatch) -> None:
    monkeypatch.setattr(reconcile_run, "MAX_DELIVERY_PAGES", 3)
    requester = FakeRequester({"/app/installations": [[]], "/app/hook/deliveries": ["forever"]})
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run()
    assert report.cut == ["the delivery log"]
    assert sum(url.startswith("/app/hook/deliveries") for _, url in requester.calls) == 3


def test_a_pull_request_list_that_never_ends_is_cut_and_says_so(queue: JobQueue, monkeypatch) -> None:
    monkeypatch.setattr(reconcile_run, "MAX_PULL_PAGES", 4)
    requester = FakeRequester({"/repos/octo/taxonomy/pulls": [[pull(1)], "forever"]})
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run("octo/taxonomy")
    assert report.cut == ["open pull requests of octo/taxonomy"]
    assert len(requester.calls) == 4  # pages read, then the walk goes on with what it has
    assert queued(queue) == ["lifecycle#1", "precheck#1", "review#1", "triage#1"]


def test_a_list_that_changes_while_it_is_paged_queues_nothing_twice(queue: JobQueue) -> None:
    # PR 3 closed between the pages, so PR 2 shows on both; PR 1's head moved between them (a push)
    pages = [[pull(1), pull(2)], [pull(2), pull(1, head=11), pull(4)]]
    requester = FakeRequester({"/repos/octo/taxonomy/pulls": pages})
    app = FakeApp(requester, triaged={sha(2)})
    before = REGISTRY.get_sample_value("taxonomist_reconcile_queued_total", {"kind": "triage"}) or 0
    report = Reconciler(app, queue, load_handlers()).run("octo/taxonomy")
    assert report.triage_queued == ["octo/taxonomy#1", "octo/taxonomy#4"]
    assert REGISTRY.get_sample_value("taxonomist_reconcile_queued_total", {"kind": "triage"}) == before + 2
    assert queued(queue) == ["lifecycle#1", "lifecycle#4", "precheck#1", "precheck#4", "review#1", "review#4",
                             "triage#1", "triage#4"]


def test_hostile_pull_request_items_are_skipped(queue: JobQueue) -> None:
    items = [{"number": "1; DROP TABLE", "head": {"sha": sha(1)}, "updated_at": NOW},
             {"number": 2, "head": {"sha": "$(reboot)"}, "updated_at": NOW},
             {"number": 2**80, "head": {"sha": sha(3)}, "updated_at": NOW},
             {"number": 4, "head": "main", "updated_at": NOW}, [], pull(5)]
    requester = FakeRequester({"/repos/octo/taxonomy/pulls": [items]})
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run("octo/taxonomy")
    assert report.skipped == 5 and report.triage_queued == ["octo/taxonomy#5"]


class Refusing(FakeRequester):
    """GitHub refusing some paths (access lost to a repository, a delivery too old to redeliver)."""

    def __init__(self, pages: dict[str, list[Any]], refused: dict[str, int]) -> None:
        super().__init__(pages)
        self.refused = refused

    def requestJsonAndCheck(self, verb: str, url: str, parameters: Any = None) -> tuple[dict, Any]:
        if url in self.refused:
            self.calls.append((verb, url))
            raise GithubException(self.refused[url], {"message": "no"}, {})
        return super().requestJsonAndCheck(verb, url, parameters)


def test_a_repository_or_delivery_github_refuses_does_not_stop_the_walk(queue: JobQueue) -> None:
    entry = {"guid": "6d1c1f3e-0000-4000-8000-000000000002", "delivered_at": NOW, "status_code": 502}
    requester = Refusing({
        "/app/installations": [[{"id": 1}]],
        "/installation/repositories": [{"repositories": [{"full_name": "octo/gone"}, {"full_name": "octo/taxonomy"}]}],
        "/repos/octo/taxonomy/pulls": [[pull(3)]],
        "/app/hook/deliveries": [[{**entry, "id": 12}, {**entry, "id": 11, "guid": "other"}]]},
        refused={"/repos/octo/gone/pulls": 404, "/app/hook/deliveries/12/attempts": 422})
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run()
    assert report.failed == ["octo/gone: GitHub answered 404", "delivery 12: GitHub answered 422"]
    assert report.triage_queued == ["octo/taxonomy#3"] and report.redelivered == [11]


def test_a_repository_name_that_would_change_the_url_is_skipped(queue: JobQueue) -> None:
    names = ["octo/taxonomy?state=closed", "octo/../../app/hook", "octo/x#frag", "octo/a/b", "octo/taxonomy"]
    requester = FakeRequester({
        "/app/installations": [[{"id": 1}]],
        "/installation/repositories": [{"repositories": [{"full_name": n} for n in names]}],
        "/repos/octo/taxonomy/pulls": [[pull(3)]], "/app/hook/deliveries": [[]]})
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run()
    assert report.skipped == 4 and report.repositories == 1
    assert [url for _, url in requester.calls if url.startswith("/repos/")] == ["/repos/octo/taxonomy/pulls"]


def test_an_installation_github_refuses_does_not_stop_the_walk(queue: JobQueue) -> None:
    requester = Refusing({"/app/installations": [[{"id": 1}]], "/app/hook/deliveries": [[]]},
                         refused={"/installation/repositories": 403})
    report = Reconciler(FakeApp(requester), queue, load_handlers()).run()
    assert report.failed == ["installation 1: GitHub answered 403"]


def test_activity_on_a_triaged_head_queues_a_review_that_is_not_a_push(queue: JobQueue) -> None:
    """A review job queued as a push would turn `changes-requested` into `needs triage` with no push made."""
    requester = FakeRequester({"/repos/octo/taxonomy/pulls": [[pull(6)]]})
    app = FakeApp(requester, triaged={sha(6)})
    reconciler = Reconciler(app, queue, load_handlers())
    reconciler.run("octo/taxonomy")  # learns the head
    requester.pages["/repos/octo/taxonomy/pulls"] = [[{**pull(6), "updated_at": "2099-01-01T00:00:00Z"}]]
    report = reconciler.run("octo/taxonomy")
    assert report.review_queued == ["octo/taxonomy#6"] and report.triage_queued == []
    (job,) = queue.unfinished()
    assert (job.route, job.event, job.action, job.pr) == ("review", "check_run", "completed", 6)
