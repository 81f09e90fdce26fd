"""`taxonomist bot reconcile` and `bot worker --queue`: what a person runs by hand, and its bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from huey import SqliteHuey
from typer.testing import CliRunner

from bot.reconcile.run import Reconciler, reconcile_periodically
from bot.reconcile.store import ReconcileStore
from bot.service.queue import JobQueue
from taxonomist.cli import app
from tests.bot.process import write_private_key
from tests.emulator.plugin import GitHubApp

runner = CliRunner()


def env(tmp_path: Path, api_url: str, app_id: int = 1) -> dict[str, str]:
    key = tmp_path / "app.pem"
    if not key.exists():
        write_private_key(key)
    return {"TAXONOMIST_APP_ID": str(app_id), "TAXONOMIST_PRIVATE_KEY": str(key),
            "TAXONOMIST_GITHUB_API_URL": api_url, "TAXONOMIST_DATA_DIR": str(tmp_path / "data"),
            "TAXONOMIST_API_RETRIES": "0", "TAXONOMIST_REQUEST_TIMEOUT": "3"}


@pytest.mark.parametrize("repo", ["octo", "octo/tax/onomy", "/taxonomy", "octo/"])
def test_a_repository_that_is_not_owner_slash_name_is_exit_2(tmp_path: Path, repo: str) -> None:
    result = runner.invoke(app, ["bot", "reconcile", "--repo", repo], env=env(tmp_path, "http://127.0.0.1:9"))
    assert result.exit_code == 2 and "is not OWNER/NAME" in result.output


def test_github_out_of_reach_is_exit_2_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bot", "reconcile"], env=env(tmp_path, "http://127.0.0.1:9"))
    assert result.exit_code == 2 and "http://127.0.0.1:9" in result.output and "Traceback" not in result.output


def test_an_unknown_worker_queue_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bot", "worker", "--queue", "gpu"], env=env(tmp_path, "http://127.0.0.1:9"))
    assert result.exit_code == 2 and "gpu" in result.output


def test_reconcile_by_hand_queues_the_untriaged_pull_request(tmp_path: Path, github_emulator,
                                                             github_app: GitHubApp) -> None:
    github_emulator.create_repo("octo-org/taxonomy", {"README.md": "# Taxonomy\n"})
    github_emulator.open_pull("octo-org/taxonomy", "new-skill", files={"compositional_skills/a/qna.yaml": "x: 1\n"})
    settings = env(tmp_path, github_emulator.url, github_app.app_id)
    Path(settings["TAXONOMIST_PRIVATE_KEY"]).write_text(github_app.private_key_pem, encoding="utf-8")
    result = runner.invoke(app, ["bot", "reconcile", "--repo", "octo-org/taxonomy"], env=settings)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["triage_queued"] == ["octo-org/taxonomy#1"] and report["open_pulls"] == 1
    again = runner.invoke(app, ["bot", "reconcile", "--repo", "octo-org/taxonomy"], env=settings)
    assert json.loads(again.output.strip().splitlines()[-1])["triage_queued"] == ["octo-org/taxonomy#1"]  # not yet run


class CountingReconciler(Reconciler):
    def __init__(self, queue: JobQueue) -> None:
        self.queue, self.clock, self.store, self.walks = queue, time.time, ReconcileStore(queue.storage), 0

    def run(self, repo: str | None = None) -> None:  # type: ignore[override]
        self.walks += 1
        self.store.set_last_walk(self.clock())


def test_two_web_processes_on_one_store_walk_once_a_period(tmp_path: Path) -> None:
    db = str(tmp_path / "q.db")
    first, second = (CountingReconciler(JobQueue(SqliteHuey("t", filename=db))) for _ in range(2))
    stops = [reconcile_periodically(r, every=3600, first_after=0.05) for r in (first, second)]
    deadline = time.monotonic() + 10
    while first.walks + second.walks == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    for stop in stops:
        stop.set()
    assert first.walks + second.walks == 1


def test_a_restart_walks_at_once_even_right_after_the_last_walk(tmp_path: Path) -> None:
    """Every web process down, then started again within the period: what opened meanwhile is found now."""
    db = str(tmp_path / "q.db")
    before = CountingReconciler(JobQueue(SqliteHuey("t", filename=db)))
    before.run()  # the walk of the processes that then went down
    after = CountingReconciler(JobQueue(SqliteHuey("t", filename=db)))
    stop = reconcile_periodically(after, every=3600, first_after=0.05)
    deadline = time.monotonic() + 10
    while after.walks == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    assert after.walks == 1
