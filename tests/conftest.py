"""Shared test setup: offline model loading, one torch thread, and the real-world corpus."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The GitHub emulator's fixtures (github_emulator, github_app): see docs/testing-with-the-emulator.md.
pytest_plugins = ["tests.emulator.plugin"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
# torch reads OMP_NUM_THREADS when it starts: tests share two cores, so one thread each.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", REPO_ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-world corpus beside the checkout; tests that need it skip, saying why, when it is absent."""
    if not (CORPUS / "README.md").is_file():
        pytest.skip(f"the real-world corpus is not at {CORPUS} (set TAXONOMIST_CORPUS to point at it)")
    return CORPUS


@pytest.fixture(autouse=True)
def _fresh_command_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no review commands nor `/generate` counted against anyone."""
    import sys

    review = sys.modules.get("bot.review.handler")
    if review is not None:
        monkeypatch.setattr(review, "COMMANDS", review.UserRateLimit(*review.COMMAND_RATE))
    generate = sys.modules.get("bot.generate.handler")
    if generate is not None:
        monkeypatch.setattr(generate, "GENERATES", generate.UserRateLimit(*generate.GENERATE_RATE))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One throwaway PostgreSQL cluster for the session (`tests.bot.services`); skipped, saying why, only
    where its binaries are absent outside CI."""
    from tests.bot.services import missing, postgres_server

    reason = missing("postgresql")
    if reason is not None:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


def fresh_database(server_url: str) -> str:
    """A new empty database on the session's cluster: its URL."""
    import uuid

    import psycopg

    name = f"t{uuid.uuid4().hex}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a `bot.dashboard.store.Store` lives: the SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "store.sqlite3"
    return fresh_database(request.getfixturevalue("postgres_url"))
