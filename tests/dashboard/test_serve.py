"""The dashboard in the real `taxonomist bot serve` process: deliveries show up, the setting turns it off."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
from markupsafe import escape

from tests.bot.process import BotProcess

pytestmark = pytest.mark.corpus  # GitHub's example webhook payloads


def opened_example(corpus: Path) -> dict:
    data = json.loads((corpus / "github" / "webhook-examples.json").read_text(encoding="utf-8"))
    examples = next(e["examples"] for e in data if e["name"] == "pull_request")
    return next(e for e in examples if e.get("action") == "opened")


def test_serve_shows_what_webhooks_delivered(tmp_path: Path, corpus: Path) -> None:
    payload = opened_example(corpus)
    payload["pull_request"]["title"] = "<script>alert('x')</script> Add haiku"
    bot = BotProcess.configure(tmp_path).start("--no-worker")
    try:
        assert bot.post("pull_request", json.dumps(payload).encode(), delivery="dash-1").status == 202
        page = bot.get("/")
        number = payload["pull_request"]["number"]
        assert f'data-number="{number}"' in page and "triage not finished" in page
        assert str(escape(payload["pull_request"]["title"])) in page and "<script>" not in page
        queue = bot.get("/queue")
        assert "dash-1" in queue and "pull_request.opened" in queue and "<td>triage</td>" in queue
    finally:
        bot.stop()


def test_serve_without_the_dashboard(tmp_path: Path, corpus: Path) -> None:
    bot = BotProcess.configure(tmp_path, TAXONOMIST_DASHBOARD="false").start("--no-worker")
    try:
        with pytest.raises(urllib.error.HTTPError, match="404"):
            bot.get("/")
        assert json.loads(bot.get("/healthz"))["status"] == "ok"
    finally:
        bot.stop()
