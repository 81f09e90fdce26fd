"""The store on both its databases (SQLite and a real PostgreSQL): versioned migrations, and what several
processes sharing one database rely on (a welcome claimed once, upserts that keep the newest activity)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.dashboard.sql import open_database
from bot.dashboard.store import MIGRATIONS, PullRow, Store

NOW = 1_780_000_000.0


def pull(number: int, *, activity: float = NOW, title: str = "t") -> PullRow:
    return PullRow("o/t", number, title, "alice", "https://github.com/o/t/pull/1", "open", False, NOW, activity,
                   activity, "a" * 40, "main")


def test_migrations_run_once_and_are_recorded(store_location: str | Path) -> None:
    store = Store(store_location)
    Store(store_location)  # a second start: nothing to apply
    assert [r["version"] for r in store.db.read("SELECT version FROM schema_version")] == [1]
    steps: list[int] = []
    later = (*MIGRATIONS, lambda db, dialect: (steps.append(2), db.execute("CREATE TABLE later (x INTEGER)")))
    assert store.db.migrate(later) == 2
    assert store.db.migrate(later) == 2 and steps == [2]
    assert [r["version"] for r in store.db.read("SELECT version FROM schema_version ORDER BY version")] == [1, 2]


def test_a_failing_migration_leaves_no_trace(store_location: str | Path) -> None:
    store = Store(store_location)

    def broken(db, dialect) -> None:  # type: ignore[no-untyped-def]
        db.execute("CREATE TABLE half (x INTEGER)")
        raise RuntimeError("step 2 fails half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        store.db.migrate((*MIGRATIONS, broken))
    assert [r["version"] for r in store.db.read("SELECT version FROM schema_version")] == [1]
    assert store.db.migrate((*MIGRATIONS, lambda db, dialect: db.execute("CREATE TABLE half (x INTEGER)"))) == 2


def _start(location: str, ready: object, results: object) -> None:
    ready.wait()  # type: ignore[attr-defined]
    store = Store(location)
    results.put(store.claim("o/t", "welcomed:alice", True))  # type: ignore[attr-defined]


def test_processes_starting_at_once_migrate_once_and_welcome_once(store_location: str | Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready, results = context.Event(), context.Queue()
    processes = [context.Process(target=_start, args=(str(store_location), ready, results)) for _ in range(4)]
    for process in processes:
        process.start()
    ready.set()
    claims = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert sorted(claims) == [False, False, False, True]
    store = Store(store_location)
    assert [r["version"] for r in store.db.read("SELECT version FROM schema_version")] == [1]


def test_two_stores_on_one_database_see_each_others_writes(store_location: str | Path) -> None:
    """Two web processes: each shows what the other received, and activity only moves forward."""
    web1, web2 = Store(store_location), Store(store_location)
    web1.upsert_pull(pull(1, activity=NOW + 10))
    web2.upsert_pull(pull(1, activity=NOW))  # an older delivery arriving late at the other machine
    web2.upsert_pull(pull(2))
    assert sorted((p.number, p.activity_at) for p in web1.open_pulls()) == [(1, NOW + 10), (2, NOW)]
    web1.touch_pull("o/t", 2, NOW - 5)
    web2.touch_pull("o/t", 2, NOW + 7)
    assert web1.pull("o/t", 2).activity_at == NOW + 7  # type: ignore[union-attr]
    web1.remember("o/t", "stale:1", {"warned_at": NOW})
    assert web2.recall("o/t", "stale:1") == {"warned_at": NOW}
    web2.forget("o/t", "stale:1")
    assert web1.recall("o/t", "stale:1") is None


def test_threads_claiming_at_once_welcome_once(store_location: str | Path) -> None:
    stores = [Store(store_location) for _ in range(2)]
    won: list[bool] = []
    threads = [threading.Thread(target=lambda s=stores[n % 2]: won.append(s.claim("o/t", "welcomed:bob", 1)))
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [False] * 7 + [True]


def test_a_sqlite_store_from_before_versions_gains_the_private_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # the pulls table as the first release wrote it
        old.execute("CREATE TABLE pulls (repo TEXT NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL DEFAULT '', "
                    "author TEXT NOT NULL DEFAULT '', html_url TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT "
                    "'open', draft INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, activity_at REAL NOT NULL, "
                    "waiting_since REAL NOT NULL, head_sha TEXT NOT NULL DEFAULT '', base_ref TEXT NOT NULL DEFAULT "
                    "'', labels TEXT NOT NULL DEFAULT '[]', requested TEXT NOT NULL DEFAULT '[]', triage TEXT, "
                    "review TEXT, similar TEXT NOT NULL DEFAULT '[]', leaves TEXT NOT NULL DEFAULT '[]', "
                    "PRIMARY KEY (repo, number))")
        old.execute("INSERT INTO pulls (repo, number, created_at, activity_at, waiting_since) "
                    "VALUES ('o/t', 3, 1, 1, 1)")
    store = Store(path)
    assert store.pull("o/t", 3).private is True  # type: ignore[union-attr]  # unknown: hidden from the public page
    assert open_database(path).dialect == "sqlite"


def test_the_data_dir_or_the_url_picks_the_database(tmp_path: Path) -> None:
    assert Store.open(tmp_path).db.dialect == "sqlite" and (tmp_path / "dashboard.sqlite3").is_file()
    assert open_database("postgresql://u@127.0.0.1:1/x").dialect == "postgresql"  # no connection until used


def test_an_unreachable_database_stops_the_commands_with_its_name_and_not_its_password(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from taxonomist.cli import app
    from tests.bot.process import free_port, write_private_key

    url = f"postgresql://bot:hunter2@127.0.0.1:{free_port()}/taxonomist"  # nothing listens there
    runner = CliRunner()
    paused = runner.invoke(app, ["bot", "pause-build", "runner down", "--data-dir", str(tmp_path),
                                 "--database-url", url])
    env = {"TAXONOMIST_APP_ID": "1", "TAXONOMIST_PRIVATE_KEY": str(write_private_key(tmp_path / "k.pem")),
           "TAXONOMIST_DATA_DIR": str(tmp_path), "TAXONOMIST_DATABASE_URL": url, "TAXONOMIST_PRECHECK_MODEL": "none",
           "TAXONOMIST_SKIP_CHECKS": "content"}
    worker = runner.invoke(app, ["bot", "worker", "--queue", "triage"], env=env)
    for result in (paused, worker):
        assert result.exit_code == 2, result.output
        assert "cannot reach postgresql://bot:***@127.0.0.1" in result.output and "hunter2" not in result.output
        assert "Traceback" not in result.output


def test_a_pr_only_reconciliation_found_is_listed_once_triaged(store_location: str | Path) -> None:
    """No webhook showed it (every web process was down): triage's read of it lists it, and a webhook that
    comes later still writes what only a webhook knows."""
    from types import SimpleNamespace

    from bot.dashboard import record
    from bot.forges.forge import PullRequest

    store = Store(store_location)
    store.set_repo_private("o/t", False)
    outcome = SimpleNamespace(pr=PullRequest(5, "d" * 40, "main", "sam", title="Adds a skill"), report=None,
                              check_run=SimpleNamespace(conclusion="success"),
                              labels=SimpleNamespace(added=["skill"], removed=[]))
    record.on_triage(store, "o/t", outcome)
    (listed,) = store.open_pulls(private=False)
    assert (listed.number, listed.title, listed.author, listed.labels) == (5, "Adds a skill", "sam", ("skill",))
    assert listed.triage == {"conclusion": "success", "errors": 0, "warnings": 0}
    record.on_triage(store, "o/secret", SimpleNamespace(**{**vars(outcome), "pr": PullRequest(6, "e" * 40, "main",
                                                                                                "sam")}))
    assert [p.number for p in store.open_pulls(private=False)] == [5]  # a repository no webhook said is public
    store.upsert_pull(PullRow("o/t", 5, "Adds a skill", "sam", "https://github.com/o/t/pull/5", "open", False, NOW,
                              NOW, NOW, "d" * 40, "main", private=False))
    assert store.pull("o/t", 5).html_url == "https://github.com/o/t/pull/5"  # type: ignore[union-attr]
