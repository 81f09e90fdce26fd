"""Hostile text from webhooks stored and read back on both databases (SQLite and a real PostgreSQL): quotes
and SQL, placeholders of both dialects, NUL bytes (PostgreSQL's text refuses them), lone surrogates (not
UTF-8), a title of a megabyte. Each is stored without an error and without changing any other row."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dashboard import record
from bot.dashboard.sql import STANDIN
from bot.dashboard.store import BuildRow, PullRow, SimilarMatch, Store

NOW = 1_780_000_000.0
HOSTILE = [
    "'); DROP TABLE pulls; --",
    "\" OR 1=1 --",
    "? ?? %s %(x)s %% $1 \\",
    "nul\x00byte\x00",
    "lone \ud800 surrogate \udfff",
    "\u202e\u2066 bidi <script>alert(1)</script>",
    "x" * 1_000_000,
]


def readable(text: str) -> str:
    """What the store gives back: NUL and lone surrogates become U+FFFD, everything else as it was."""
    return "".join(STANDIN if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


@pytest.mark.parametrize("text", HOSTILE, ids=["quote-sql", "dquote", "placeholders", "nul", "surrogate", "bidi",
                                               "megabyte"])
def test_hostile_text_in_every_column_is_stored_and_read_back(store_location: str | Path, text: str) -> None:
    store = Store(store_location)
    store.upsert_pull(PullRow("o/t", 1, "bystander", "bob", "", "open", False, NOW, NOW, NOW, "b" * 40, "main"))
    short = text[:200]  # keys stay short, as GitHub's are: a repository or login, a label
    store.upsert_pull(PullRow("o/t", 2, text, text, text, "open", False, NOW, NOW, NOW, text, text, (text,),
                              (short,), private=False))
    store.set_triage("o/t", 2, readable(text), {"conclusion": text, "errors": 0, "warnings": 0}, [text],
                     [SimilarMatch(text, 1, text, 0.97, ((text, text),))])
    store.set_review("o/t", 2, {"blockers": [text]})
    store.set_labels("o/t", 2, [text])
    store.remember("o/t", short, {"note": text})
    assert store.claim("o/t", short + "!", text) is True
    store.record_delivery(short, text, text, "o/t", 2, 1, NOW)
    store.job_queued(short, text, "o/t", 2, NOW)
    store.job_state(short, "failed", NOW, reason=text, attempt=True)
    store.heartbeat(short, text, NOW)
    store.record_build(BuildRow(short, NOW, "failed", text, (text,), (), text))

    got = store.pull("o/t", 2)
    assert got is not None
    assert (got.title, got.author, got.head_sha, got.labels) == (readable(text), readable(text), readable(text),
                                                                 (text,))  # labels: JSON keeps any text
    assert got.triage == {"conclusion": text, "errors": 0, "warnings": 0} and got.review == {"blockers": [text]}
    assert got.similar[0].examples == ((text, text),)
    assert store.recall("o/t", short) == {"note": text}
    assert store.recall("o/t", short + "!") == text
    assert [d["event"] for d in store.deliveries()] == [readable(text)]
    assert [j["reason"] for j in store.jobs(("failed",))] == [readable(text)]
    assert [w["current_job"] for w in store.workers()] == [readable(text)]
    assert store.builds()[0].leaves_in == (text,)
    bystander = store.pull("o/t", 1)
    assert bystander is not None and bystander.title == "bystander" and len(store.open_pulls()) == 2


def test_a_webhook_with_a_nul_in_the_title_reaches_the_dashboard(store_location: str | Path) -> None:
    """The intake's record of a delivery: a NUL from GitHub's JSON must not lose the PR from the pages."""
    store = Store(store_location)
    pr = {"number": 9, "title": "a\x00b", "user": {"login": "mallory\x00"}, "state": "open",
          "html_url": "https://github.com/o/t/pull/9", "created_at": "2026-01-01T00:00:00Z", "labels": [],
          "head": {"sha": "c" * 40}, "base": {"ref": "main"}, "requested_reviewers": []}
    payload = {"action": "opened", "repository": {"full_name": "o/t", "private": False},
               "sender": {"login": "mallory\x00", "type": "User"}, "pull_request": pr}
    record.on_delivery(store, "pull_request", "d\x00", payload, [], NOW)
    got = store.pull("o/t", 9)
    assert got is not None and got.title == f"a{STANDIN}b" and got.author == f"mallory{STANDIN}"
    assert [d["id"] for d in store.deliveries()] == [f"d{STANDIN}"]
