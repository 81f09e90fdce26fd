"""What the service writes to the store as it runs jobs: job states, reasons, workers; and the setting."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.service.app import create_app
from bot.service.settings import SettingsError, load_settings
from tests.dashboard.harness import REPO, World, clean_leaf
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp as EmulatedApp


@pytest.mark.corpus
def test_jobs_retries_failures_and_workers_are_recorded(github_emulator: EmulatorClient, github_app: EmulatedApp,
                                                        tmp_path: Path, corpus: Path) -> None:
    world = World.make(github_emulator, github_app, tmp_path, corpus, "review:\n  maintainers: [mona]\n")
    number = world.open("carla/leaf", clean_leaf("compositional_skills/linguistics/leaf"), "carla")
    store = world.store
    counts = store.job_counts()
    assert counts.get("done", 0) >= 3 and set(counts) == {"done"}  # triage, lifecycle, review: all finished
    (worker,) = store.workers()
    assert worker["current_job"] is None and time.time() - worker["heartbeat_at"] < 60
    row = store.pull(REPO, number)
    assert row is not None and row.triage == {"conclusion": "success", "errors": 0, "warnings": 0}
    assert row.review is not None and row.review["required"] == 2 and row.leaves == (
        "compositional_skills/linguistics/leaf",)
    hook = world.hooks.pull_request(REPO, number, "synchronize", before=row.head_sha)
    (job,) = [j for j in world.service.router.jobs_for(hook.event, hook.delivery, hook.payload, time.time())
              if j.route == "triage"]
    github_emulator.inject_fault("status", method="GET", path=f"/repos/*/pulls/{number}", status=502)
    with pytest.raises(Exception, match="502"):
        world.service.run(job)
    (retrying,) = store.jobs(("retrying",))
    assert retrying["attempts"] == 1 and "502" in retrying["reason"]
    github_emulator.clear_faults()
    world.service.report_failure(job, "GithubException: 502 (retries spent)")
    (failed,) = store.jobs(("failed",))
    assert failed["key"] == job.key and "retries spent" in failed["reason"]
    assert failed["attempts"] == 1  # the run that raised: the page never says 0 attempts of a spent job


def test_the_dashboard_setting_turns_the_pages_off(tmp_path: Path) -> None:
    from bot.dashboard.store import Store
    from bot.service.router import Router

    store = Store(tmp_path / "d.sqlite3")
    on = TestClient(create_app("s", None, Router(), store=store, dashboard=True))  # type: ignore[arg-type]
    off = TestClient(create_app("s", None, Router(), store=store, dashboard=False))  # type: ignore[arg-type]
    assert on.get("/").status_code == 200 and off.get("/").status_code == 404
    key = tmp_path / "k.pem"
    key.write_text("x", encoding="utf-8")
    env = {"TAXONOMIST_APP_ID": "1", "TAXONOMIST_PRIVATE_KEY": str(key), "TAXONOMIST_WEBHOOK_SECRET": "s"}
    assert load_settings(env).dashboard is True
    assert load_settings({**env, "TAXONOMIST_DASHBOARD": "false"}).dashboard is False
    with pytest.raises(SettingsError, match="TAXONOMIST_DASHBOARD: 'maybe' is not a valid value"):
        load_settings({**env, "TAXONOMIST_DASHBOARD": "maybe"})
