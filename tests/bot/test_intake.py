"""Webhook intake of the real `taxonomist bot serve` process, with GitHub's own example payloads.

The server runs with `--no-worker`, so what was queued stays in the SQLite queue to inspect.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huey import SqliteHuey

from bot.service.queue import JobQueue
from bot.service.signature import sign
from tests.bot.process import ROOT, SECRET, BotProcess

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def examples(corpus: Path) -> dict[str, list[dict[str, Any]]]:
    data = json.loads((corpus / "github" / "webhook-examples.json").read_text(encoding="utf-8"))
    return {e["name"]: e["examples"] for e in data}


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[BotProcess]:
    process = BotProcess.configure(tmp_path_factory.mktemp("intake")).start("--no-worker")
    yield process
    process.stop()


def example(examples: dict[str, list[dict[str, Any]]], event: str, action: str | None = None) -> bytes:
    found = next(e for e in examples[event] if action is None or e.get("action") == action)
    return json.dumps(found).encode()


def queued(bot: BotProcess) -> list[str]:
    queue = JobQueue(SqliteHuey("taxonomist", filename=str(bot.data_dir / "queue.sqlite3")))
    return sorted(j.delivery for j in queue.unfinished())


def test_signed_pull_request_is_queued_with_202(bot: BotProcess, examples: dict) -> None:
    reply = bot.post("pull_request", example(examples, "pull_request", "opened"), delivery="pr-opened-1")
    assert (reply.status, reply.body) == (202, {"status": "queued", "queued": 3})  # triage, lifecycle, precheck
    assert "pr-opened-1" in queued(bot)


def test_redelivery_is_recognised_and_not_queued_twice(bot: BotProcess, examples: dict) -> None:
    body = example(examples, "pull_request", "synchronize")
    assert bot.post("pull_request", body, delivery="redeliver-1").status == 202
    again = bot.post("pull_request", body, delivery="redeliver-1")
    assert (again.status, again.body["status"]) == (200, "duplicate")


def test_ping_is_answered(bot: BotProcess, examples: dict) -> None:
    reply = bot.post("ping", example(examples, "ping"))
    assert (reply.status, reply.body) == (200, {"status": "pong"})


def test_unsigned_wrongly_signed_and_changed_body_are_rejected(bot: BotProcess, examples: dict) -> None:
    body = example(examples, "pull_request", "opened")
    before = queued(bot)
    assert bot.post("pull_request", body, signature=None).status == 401
    assert bot.post("pull_request", body, secret="not-the-secret").status == 401
    assert bot.post("pull_request", body, signature="sha256=" + "0" * 64).status == 401
    tampered = body.replace(b'"opened"', b'"closed"', 1)
    assert tampered != body
    assert bot.post("pull_request", tampered, signature=sign(SECRET, body), delivery="replayed").status == 401
    assert queued(bot) == before



def test_a_delivery_id_that_is_no_guid_is_refused_before_it_is_logged_or_stored(bot: BotProcess,
                                                                                examples: dict) -> None:
    """The header is outside the signature: a huge or odd one must not become a log field or a store key."""
    body = example(examples, "pull_request", "opened")
    before = queued(bot)
    for delivery in ("d" * 65, "x" * 20_000, "<@everyone>", "a b", "../../etc"):
        reply = bot.post("pull_request", body, delivery=delivery)
        assert reply.status == 400 and "not a delivery id" in reply.body["error"], delivery
    assert queued(bot) == before
    assert "x" * 100 not in bot.logs() and "<@everyone>" not in bot.logs()
    assert bot.post("pull_request", body, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958").status == 202

def oversized_count(bot: BotProcess) -> float:
    line = next((x for x in bot.get("/metrics").splitlines()
                 if x.startswith('taxonomist_deliveries_rejected_total{reason="oversized"}')), None)
    return float(line.split()[-1]) if line else 0.0


def test_oversized_delivery_is_rejected_before_it_is_read(bot: BotProcess) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=30)
    conn.putrequest("POST", "/webhook")
    conn.putheader("Content-Length", str(25 * 1024 * 1024 + 1))
    conn.putheader("X-GitHub-Event", "pull_request")
    conn.endheaders()
    assert conn.getresponse().status == 413  # answered from the declared length, no body sent
    conn.close()


def test_oversized_streamed_delivery_is_cut_off(bot: BotProcess) -> None:
    before = oversized_count(bot)
    chunks = (b"x" * (1024 * 1024) for _ in range(27))
    conn = http.client.HTTPConnection("127.0.0.1", bot.port, timeout=30)
    try:
        conn.request("POST", "/webhook", body=chunks, headers={"X-GitHub-Event": "pull_request"},
                     encode_chunked=True)
        assert conn.getresponse().status == 413
    except (ConnectionError, BrokenPipeError):
        pass  # the server may close before the client has sent everything
    finally:
        conn.close()
    assert oversized_count(bot) == before + 1


def test_events_without_a_triage_handler_are_accepted_without_jobs(bot: BotProcess, examples: dict) -> None:
    for event, action in (("installation", "created"), ("pull_request", "labeled"), ("installation_repositories",
                                                                                     None)):
        reply = bot.post(event, example(examples, event, action))
        assert (reply.status, reply.body["queued"]) == (202, 0)


def test_bad_json_and_missing_headers(bot: BotProcess) -> None:
    assert bot.post("pull_request", b"not json").status == 400
    assert bot.post("", b"{}").status == 400


def test_metrics_and_logs(bot: BotProcess, examples: dict) -> None:
    body = example(examples, "pull_request", "opened")
    bot.post("pull_request", body, secret="wrong")
    bot.post("pull_request", body, signature=None)
    assert bot.post("pull_request", body, delivery="logged-1").status == 202
    metrics = bot.get("/metrics")
    assert 'taxonomist_deliveries_rejected_total{reason="bad-signature"}' in metrics
    assert 'taxonomist_jobs_queued_total{route="triage"}' in metrics
    lines = [json.loads(line) for line in bot.logs().splitlines() if line.startswith("{")]
    accepted = [x for x in lines if x["message"] == "delivery accepted" and x["delivery"] == "logged-1"]
    assert accepted and accepted[0]["repo"] == "Codertocat/Hello-World" and accepted[0]["pr"] == 2
    assert accepted[0]["head_sha"] == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert any(x["message"] == "delivery rejected" and x["reason"] == "unsigned" for x in lines)


def test_start_up_without_a_secret_is_refused(tmp_path: Path) -> None:
    process = BotProcess.configure(tmp_path)
    env = {k: v for k, v in process.env.items() if k != "TAXONOMIST_WEBHOOK_SECRET"}
    done = subprocess.run([sys.executable, "-c", "from taxonomist.cli import main; main()", "bot", "serve"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "missing TAXONOMIST_WEBHOOK_SECRET" in done.stderr
