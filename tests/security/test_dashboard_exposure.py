"""The public dashboard (issue 22, item 3): private repositories stay off it unless the operator turns
them on, and then only behind a password; `/queue` names no path, host or process; page views, however
many, never hold up a webhook delivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from huey import SqliteHuey
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.dashboard import record, web
from bot.dashboard.store import Store
from bot.service.app import create_app
from bot.service.queue import JobQueue
from bot.service.router import Job, Router
from bot.service.settings import SettingsError, load_settings
from tests.security.loopback import WAIT, serving

NOW = time.time()
SECRET_TITLE = "Add the acquisition plan of Project Nightjar"
PASSWORD = "correct horse battery staple"


def deliver(store: Store, repo: str, number: int, title: str, repository: dict) -> None:
    payload = {"action": "opened", "repository": {"full_name": repo, **repository},
               "sender": {"login": "alice", "type": "User"},
               "pull_request": {"number": number, "title": title, "state": "open", "user": {"login": "alice"},
                                "head": {"sha": "c" * 40}, "base": {"ref": "main"},
                                "html_url": f"https://github.com/{repo}/pull/{number}"}}
    job = Job("triage", "pull_request", "opened", f"d-{repo}-{number}", repo, None, number, "c" * 40, {}, NOW, True)
    record.on_delivery(store, "pull_request", f"delivery-{repo}-{number}", payload, [job], NOW)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "dashboard.sqlite3")
    deliver(store, "octo-org/taxonomy", 1, "Add a haiku skill", {"private": False})
    deliver(store, "octo-org/secret-taxonomy", 2, SECRET_TITLE, {"private": True})
    deliver(store, "octo-org/unsaid", 3, "A repository that does not say", {})  # fail closed: hidden
    return store


def pages(client: TestClient, **headers: str) -> str:
    out = []
    for path in ("/", "/similar", "/queue", "/builds", "/?author=alice", "/?label=&path=octo-org"):
        page = client.get(path, headers=headers)
        assert page.status_code == 200, (path, page.status_code)
        out.append(page.text)
    return "\n".join(out)


def test_private_repositories_never_reach_the_public_pages(store: Store) -> None:
    shown = pages(TestClient(Starlette(routes=web.routes(store))))
    assert "Add a haiku skill" in shown and "octo-org/taxonomy" in shown
    for secret in (SECRET_TITLE, "secret-taxonomy", "octo-org/unsaid", "does not say"):
        assert secret not in shown


def test_private_repositories_are_shown_only_behind_the_password(store: Store) -> None:
    client = TestClient(Starlette(routes=web.routes(store, access=web.Access(private=True, password=PASSWORD))))
    for path in ("/", "/similar", "/queue", "/builds"):
        denied = client.get(path)
        assert denied.status_code == 401 and SECRET_TITLE not in denied.text
        assert denied.headers["www-authenticate"].startswith("Basic")
    for wrong in ("Basic " + base64.b64encode(b"admin:guess").decode(), "Basic !!!", "Bearer " + PASSWORD,
                  "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()[:-1]).decode()):
        assert client.get("/", headers={"Authorization": wrong}).status_code == 401
    good = "Basic " + base64.b64encode(f"triager:{PASSWORD}".encode()).decode()
    assert SECRET_TITLE in pages(client, Authorization=good)


def test_private_repositories_need_a_password_to_start(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text("key")
    env = {"TAXONOMIST_APP_ID": "1", "TAXONOMIST_PRIVATE_KEY": str(key), "TAXONOMIST_WEBHOOK_SECRET": "s",
           "TAXONOMIST_DASHBOARD_PRIVATE": "true"}
    with pytest.raises(SettingsError, match="TAXONOMIST_DASHBOARD_PASSWORD"):
        load_settings(env)
    with pytest.raises(SettingsError, match="at least 16"):
        load_settings({**env, "TAXONOMIST_DASHBOARD_PASSWORD": "short"})
    assert load_settings({**env, "TAXONOMIST_DASHBOARD_PASSWORD": PASSWORD}).dashboard_private
    with pytest.raises(ValueError, match="password"):
        web.Access(private=True)


def test_the_queue_page_names_no_path_host_or_process(store: Store) -> None:
    worker = "build-7.corp.internal:48213/worker-2"
    store.heartbeat(worker, "triage octo-org/secret-taxonomy#2", NOW)
    store.job_running("d-octo-org/taxonomy-1", "triage", "octo-org/taxonomy", 1, worker, NOW)
    store.job_state("d-octo-org/taxonomy-1", "failed", NOW, attempt=True, reason=(
        "OSError: [Errno 28] No space left on device: '/srv/taxonomist/data/indexes/octo-org__taxonomy.npz' "
        "(worker build-7.corp.internal pid 48213, redis at 10.1.2.3:6379)"))
    page = TestClient(Starlette(routes=web.routes(store))).get("/queue").text
    for leak in ("build-7", "corp.internal", "48213", "/srv/", "taxonomist/data", "10.1.2.3", "6379",
                 "secret-taxonomy"):
        assert leak not in page, leak
    assert "No space left on device" in page and "worker " in page  # the reason and the worker, anonymised


def signed_ping(port: int, n: int) -> float:
    """Seconds a signed `ping` delivery takes to be answered."""
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": n}).encode()
    signature = "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("POST", "/webhook", body, {"X-GitHub-Event": "ping", "X-GitHub-Delivery": f"ping-{n}",
                                                "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    return time.perf_counter() - started


def get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_page_views_stuck_on_the_dashboards_threads_never_hold_up_a_delivery(store: Store, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = Store.open_pulls

    def stuck(self: Store, *args, **kwargs):  # a slow page: every read waits until the test lets it go
        release.wait(WAIT)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "open_pulls", stuck)
    queue = JobQueue(SqliteHuey("taxonomist", filename=str(tmp_path / "queue.sqlite3")))
    app = create_app("s", queue, Router(), store=store, dashboard=True)
    views = web.PAGE_THREADS + web.PAGES_WAITING + 40  # more views than the dashboard takes
    with serving(app) as port, ThreadPoolExecutor(views) as pool:
        answers = [pool.submit(get, port, "/") for _ in range(views)]
        time.sleep(1.0)  # every view has arrived: the page threads are stuck, the line is full
        took = [signed_ping(port, n) for n in range(5)]
        release.set()
        statuses = [a.result(WAIT) for a in answers]
    assert max(took) < 1.0, took  # deliveries go on (GitHub waits 10 s at most)
    assert statuses.count(503) >= 40 and set(statuses) <= {200, 503}  # the excess was turned away at once
