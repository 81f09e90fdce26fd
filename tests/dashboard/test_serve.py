"""The dashboard in the real `taxonomist bot serve` process: deliveries show up, the setting turns it off."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from markupsafe import escape

from tests.bot.process import BotProcess, free_port

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


def test_serve_gives_the_dashboard_its_own_port_and_process(tmp_path: Path, corpus: Path) -> None:
    pages_port = free_port()
    bot = BotProcess.configure(tmp_path, TAXONOMIST_DASHBOARD_PORT=str(pages_port)).start("--no-worker")
    try:
        payload = opened_example(corpus)
        assert bot.post("pull_request", json.dumps(payload).encode(), delivery="own-1").status == 202
        with pytest.raises(urllib.error.HTTPError, match="404"):
            bot.get("/")  # not on the webhook's port
        for _ in range(100):  # the dashboard's process starts beside the webhook's
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{pages_port}/", timeout=5) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert f'data-number="{payload["pull_request"]["number"]}"' in page  # the same store
    finally:
        bot.stop()
    for _ in range(50):  # and it goes with `bot serve`
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{pages_port}/", timeout=2).close()
        except OSError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the dashboard's process outlived `bot serve`")
