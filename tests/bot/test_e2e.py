"""The real `taxonomist bot serve` process against the GitHub emulator, end to end.

Every API call the bot makes is checked by the emulator against GitHub's REST description;
deliveries start from GitHub's example payloads and are signed as GitHub signs them. Content
checks are skipped here (their models are the content checks' tests' business): the flow is
what is under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.comment.sticky import first_visible_line
from bot.triage.render import MARKER
from tests.bot.process import BotProcess
from tests.bot.world import APP_ID, REPO, World, clean_contribution, contribution_files, settled, wait_for

pytestmark = pytest.mark.corpus
SAMPLE = "compositional_skills/linguistics/antonyms/qna.yaml"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[tuple[World, BotProcess]]:
    tmp = tmp_path_factory.mktemp("e2e")
    bot = BotProcess.configure(tmp, TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_APP_ID=str(APP_ID),
                               TAXONOMIST_JOB_RETRIES="2", TAXONOMIST_RETRY_DELAY="0.2",
                               TAXONOMIST_API_RETRIES="2", TAXONOMIST_REQUEST_TIMEOUT="5")
    world = World.start(Path(bot.env["TAXONOMIST_PRIVATE_KEY"]), corpus)
    bot.env["TAXONOMIST_GITHUB_API_URL"] = world.server.url
    bot.start()
    yield world, bot
    bot.stop()
    world.stop()


@pytest.fixture(autouse=True)
def no_violations(env: tuple[World, BotProcess]) -> Iterator[None]:
    yield
    env[0].client.clear_faults()
    env[0].client.assert_no_violations()


def test_new_pull_request_gets_check_run_comment_and_labels(env: tuple[World, BotProcess]) -> None:
    world, bot = env
    number = world.open_pull("antonyms", contribution_files())
    assert bot.post("pull_request", world.pull_request_event(number, "opened")).status == 202
    found = wait_for(lambda: settled(world, number, {"skill", "triage-needed"}), logs=bot.logs)
    (run,) = found["runs"]
    assert run["conclusion"] == "failure"
    assert {(a["path"], a["start_line"]) for a in run["annotations"]} >= {(SAMPLE, 5), (SAMPLE, 7)}
    (comment,) = found["comments"]
    assert comment["body"].startswith(MARKER) and "| `yamllint` | error | 7 |" in comment["body"]

    # a push that fixes it: a new check run at the new head, the same comment edited, labels kept
    world.client.push_to_pull(REPO, number, {**clean_contribution("compositional_skills/linguistics/antonyms")})
    assert bot.post("pull_request", world.pull_request_event(number, "synchronize")).status == 202
    after = wait_for(lambda: (s := settled(world, number, {"skill"})) and s["head"] != found["head"] and s,
                     logs=bot.logs)
    assert [r["conclusion"] for r in after["runs"]] == ["success"]
    assert [c["id"] for c in after["comments"]] == [comment["id"]]
    assert first_visible_line(after["comments"][0]["body"]).startswith("**Ready for review:")
    assert after["labels"] == {"skill", "triage-needed"}


def test_redeliveries_and_repeats_change_nothing(env: tuple[World, BotProcess]) -> None:
    world, bot = env
    number = world.open_pull("repeat", contribution_files())
    body = world.pull_request_event(number, "opened")
    delivery = str(uuid.uuid4())
    assert bot.post("pull_request", body, delivery=delivery).status == 202
    first = wait_for(lambda: settled(world, number, {"skill"}), logs=bot.logs)
    assert bot.post("pull_request", body, delivery=delivery).body["status"] == "duplicate"
    for _ in range(2):  # the same event again under new delivery ids: a retried job, a manual redelivery
        assert bot.post("pull_request", world.pull_request_event(number, "reopened")).status == 202
    wait_for(lambda: "taxonomist_jobs_running 0.0" in bot.get("/metrics") and bot.get("/healthz").find(
        '"queued":0') >= 0, logs=bot.logs)
    again = wait_for(lambda: settled(world, number, {"skill"}), logs=bot.logs)
    assert len(again["runs"]) == 1 and len(again["comments"]) == 1
    assert len(again["runs"][0]["annotations"]) == len(first["runs"][0]["annotations"])


def test_transient_errors_and_rate_limits_are_ridden_out(env: tuple[World, BotProcess]) -> None:
    world, bot = env
    number = world.open_pull("faulty", contribution_files())
    world.client.inject_fault("status", status=502, times=2)
    world.client.inject_fault("rate_limit", path="*/contents/*", retry_after=1, times=1)
    world.client.inject_fault("secondary_rate_limit", method="POST", retry_after=1, times=1)
    world.client.inject_fault("status", method="PATCH", status=503, times=1)
    assert bot.post("pull_request", world.pull_request_event(number, "opened")).status == 202
    found = wait_for(lambda: settled(world, number, {"skill"}), logs=bot.logs)
    assert found["runs"][0]["conclusion"] == "failure" and len(found["comments"]) == 1
    assert all(f["hits"] == f["times"] for f in world.client.faults())


def test_spent_retries_end_in_a_failed_check_run_with_the_reason(env: tuple[World, BotProcess]) -> None:
    world, bot = env
    number = world.open_pull("broken", contribution_files())
    world.client.inject_fault("status", method="GET", path="*/pulls/*/files", status=500)
    assert bot.post("pull_request", world.pull_request_event(number, "opened")).status == 202
    head = world.client.pull(REPO, number)["pull_request"]["head"]["sha"]

    def failed() -> dict | None:
        runs = world.check_runs(head)
        return runs[0] if runs and runs[0]["status"] == "completed" else None

    run = wait_for(failed, timeout=90, logs=bot.logs)
    assert run["conclusion"] == "failure"
    assert "Triage could not run" in run["output"]["title"] and "500" in run["output_full"]["summary"]


def test_separate_worker_process_runs_what_a_queue_only_server_accepted(env: tuple[World, BotProcess],
                                                                         tmp_path: Path) -> None:
    world, bot = env
    web = BotProcess.configure(tmp_path, TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_APP_ID=str(APP_ID),
                               TAXONOMIST_GITHUB_API_URL=world.server.url,
                               TAXONOMIST_PRIVATE_KEY=bot.env["TAXONOMIST_PRIVATE_KEY"])
    web.start("--no-worker")
    worker = BotProcess(data_dir=web.data_dir, env=web.env)
    try:
        number = world.open_pull("scale-out", contribution_files())
        assert web.post("pull_request", world.pull_request_event(number, "opened")).status == 202
        worker.start("--workers", "2", command="worker")
        found = wait_for(lambda: settled(world, number, {"skill", "triage-needed"}), logs=worker.logs)
        assert len(found["runs"]) == 1 and len(found["comments"]) == 1
    finally:
        worker.stop()
        web.stop()
