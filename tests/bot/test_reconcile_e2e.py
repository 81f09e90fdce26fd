"""A PR opened while every bot process was down is triaged after `bot serve` starts, with no person involved
(issue 24): the start-up walk finds its head without triage, and the failed deliveries in the app's delivery
log are redelivered. Against the emulator, whose every answer is checked against GitHub's REST description."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.process import SECRET, BotProcess
from tests.bot.world import APP_ID, World, clean_contribution, settled, wait_for
from tests.emulator.webhooks import Webhook, deliver_logged

pytestmark = pytest.mark.corpus


def test_prs_opened_while_the_bot_was_down_are_triaged_after_it_starts(tmp_path: Path, corpus: Path) -> None:
    bot = BotProcess.configure(tmp_path, TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_APP_ID=str(APP_ID),
                               TAXONOMIST_RECONCILE_MINUTES="10")
    world = World.start(Path(bot.env["TAXONOMIST_PRIVATE_KEY"]), corpus)
    bot.env["TAXONOMIST_GITHUB_API_URL"] = world.server.url
    try:
        numbers = [world.open_pull(f"skill-{n}", clean_contribution(f"compositional_skills/linguistics/s{n}"))
                   for n in range(3)]
        failed = [deliver_logged(world.client, APP_ID, f"{bot.url}/webhook",
                                 Webhook("pull_request", json.loads(world.pull_request_event(n, "opened"))), SECRET)
                  for n in numbers[:2]]  # GitHub tried two of them; the third's delivery is lost with no trace
        assert {d["status"] for d in failed} == {"failed to connect"}

        bot.start()  # no delivery, no person: only what the bot does at start-up
        done = {n: wait_for(lambda n=n: settled(world, n, {"skill"}), timeout=90, logs=bot.logs) for n in numbers}
        assert all(len(found["comments"]) == 1 and len(found["runs"]) == 1 for found in done.values())
        redelivered = [c for c in world.client.calls("POST") if c["path"].endswith("/attempts")]
        assert sorted(int(c["path"].split("/")[-2]) for c in redelivered) == sorted(d["id"] for d in failed)
        world.client.assert_no_violations()
    finally:
        bot.stop()
        world.stop()
