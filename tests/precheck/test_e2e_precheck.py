"""Precheck on push, end to end: the real `taxonomist bot serve` with a tiny model, against the GitHub emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.comment.sticky import section_marker
from bot.precheck.run import CHECK_RUN_NAME
from pipeline.models import tiny_model
from tests.bot.process import BotProcess
from tests.bot.world import APP_ID, REPO, World, clean_contribution, settled, wait_for

START = section_marker("precheck")

pytestmark = pytest.mark.corpus


def test_a_push_gets_a_precheck_after_its_triage(tmp_path: Path, corpus: Path) -> None:
    model = tiny_model(tmp_path / "tiny")
    bot = BotProcess.configure(tmp_path / "bot", TAXONOMIST_SKIP_CHECKS="content", TAXONOMIST_APP_ID=str(APP_ID),
                               TAXONOMIST_PRECHECK_MODEL=str(model), TAXONOMIST_RETRY_DELAY="0.2")
    world = World.start(Path(bot.env["TAXONOMIST_PRIVATE_KEY"]), corpus)
    bot.env["TAXONOMIST_GITHUB_API_URL"] = world.server.url
    bot.start()
    try:
        number = world.open_pull("opposites", clean_contribution("compositional_skills/linguistics/opposites"))
        assert bot.post("pull_request", world.pull_request_event(number, "opened")).status == 202

        def prechecked() -> dict | None:
            found = settled(world, number, {"skill"})
            state = world.client.state(REPO)
            runs = [r for r in state["check_runs"] if r["name"] == CHECK_RUN_NAME and r["status"] == "completed"]
            return {**found, "precheck": runs} if found and runs and START in found["comments"][-1]["body"] else None

        found = wait_for(prechecked, timeout=120, logs=bot.logs)
        assert [r["conclusion"] for r in found["runs"]] == ["success"]  # triage, untouched
        (run,) = found["precheck"]
        assert run["conclusion"] == "success" and run["head_sha"] == found["head"]  # gibberish: `new`
        (comment,) = found["comments"]
        assert "Ready for review" in comment["body"] and "<details>" in comment["body"]
        assert "model-already-knows" not in found["labels"]
        world.client.assert_no_violations()
    finally:
        bot.stop()
        world.stop()
