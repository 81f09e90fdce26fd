"""The bot's own store for the dashboard and the lifecycle: SQLite in the data directory, or PostgreSQL.

Written as webhooks arrive and jobs run (what GitHub shows of each open PR, the derived review
state, the queue's jobs, the workers' heartbeats, the weekly builds, the lifecycle's memory:
welcomes and stale marks), read by the dashboard's pages, which therefore never call GitHub. Only
what a PR shows on GitHub is kept: no tokens, no settings, no configuration. One machine: one
SQLite file per data directory, which the processes on it share. Several machines:
`TAXONOMIST_DATABASE_URL` names one PostgreSQL database that every web process and worker shares,
so every dashboard shows every PR and a welcome is posted once. The same SQL runs on both
(`bot.dashboard.sql`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dashboard.sql import Database, Transaction, open_database

DOWN_STATUSES = frozenset({"failed", "rejected", "paused"})  # no build goes out: stale clocks stop
STORE_FILE = "dashboard.sqlite3"  # in the data directory, when no database URL is set

# "similar" is quoted everywhere: PostgreSQL reserves the word (SIMILAR TO).
SCHEMA = """
CREATE TABLE IF NOT EXISTS pulls (
    repo TEXT NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL DEFAULT '', author TEXT NOT NULL DEFAULT '',
    html_url TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'open', draft INTEGER NOT NULL DEFAULT 0,
    created_at DOUBLE PRECISION NOT NULL, activity_at DOUBLE PRECISION NOT NULL,
    waiting_since DOUBLE PRECISION NOT NULL,
    head_sha TEXT NOT NULL DEFAULT '', base_ref TEXT NOT NULL DEFAULT '', labels TEXT NOT NULL DEFAULT '[]',
    requested TEXT NOT NULL DEFAULT '[]', triage TEXT, review TEXT, "similar" TEXT NOT NULL DEFAULT '[]',
    leaves TEXT NOT NULL DEFAULT '[]', private INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (repo, number));
CREATE TABLE IF NOT EXISTS repos (repo TEXT PRIMARY KEY, private INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, event TEXT NOT NULL, action TEXT, repo TEXT, pr INTEGER, jobs INTEGER NOT NULL,
    received_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY, route TEXT NOT NULL, repo TEXT, pr INTEGER, state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, reason TEXT, worker TEXT, queued_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS workers (
    id TEXT PRIMARY KEY, heartbeat_at DOUBLE PRECISION NOT NULL, current_job TEXT,
    started_at DOUBLE PRECISION NOT NULL);
CREATE TABLE IF NOT EXISTS builds (
    id TEXT PRIMARY KEY, finished_at DOUBLE PRECISION NOT NULL, status TEXT NOT NULL, gate TEXT NOT NULL,
    leaves_in TEXT NOT NULL, leaves_out TEXT NOT NULL, report_url TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS lifecycle (repo TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (repo, key));
CREATE INDEX IF NOT EXISTS pulls_open ON pulls (state, waiting_since);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (updated_at)
"""


def _first_schema(db: Transaction, dialect: str) -> None:
    """Version 1: the tables. A SQLite store written before versions were recorded already has them, maybe
    without `pulls.private` (added later): that column is added then."""
    for statement in SCHEMA.split(";"):
        db.execute(statement)
    if dialect == "sqlite" and "private" not in {r["name"] for r in db.execute("PRAGMA table_info(pulls)").fetchall()}:
        db.execute("ALTER TABLE pulls ADD COLUMN private INTEGER NOT NULL DEFAULT 1")


# Numbered in order: a new step goes at the end, and a step once released is never changed.
MIGRATIONS = (_first_schema,)
UPDATE_PULL = """DO UPDATE SET title=excluded.title, author=excluded.author, private=excluded.private,
    html_url=excluded.html_url, state=excluded.state, draft=excluded.draft, created_at=excluded.created_at,
    activity_at=CASE WHEN excluded.activity_at > pulls.activity_at THEN excluded.activity_at ELSE pulls.activity_at END,
    waiting_since=CASE WHEN excluded.waiting_since > pulls.waiting_since
        THEN excluded.waiting_since ELSE pulls.waiting_since END,
    head_sha=excluded.head_sha, base_ref=excluded.base_ref, labels=excluded.labels, requested=excluded.requested"""
# Jobs and deliveries are shown only for repositories a webhook said are public (unknown: hidden).
PUBLIC_REPO = "(coalesce(repo, '') = '' OR repo IN (SELECT repo FROM repos WHERE private = 0))"
KEEP_DELIVERIES = 200  # the last deliveries shown; older rows are dropped as new ones come
KEEP_FINISHED_JOBS = 500
FORGET_WORKERS_AFTER = 86400.0  # seconds: a worker silent this long (a restarted process) leaves the page


@dataclass(frozen=True, slots=True)
class SimilarMatch:
    """A leaf of this PR that the duplicate check matched with a leaf of another open PR (its structured
    result, `checks.findings.Similar`): the examples paired, or none when the leaves as a whole are alike."""

    leaf: str
    pr: int
    matched_leaf: str
    score: float
    examples: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"leaf": self.leaf, "pr": self.pr, "matched_leaf": self.matched_leaf, "score": self.score,
                "examples": [list(pair) for pair in self.examples]}

    @classmethod
    def from_json(cls, data: Any) -> SimilarMatch | None:
        """None for what an older version stored (bare PR numbers): the next triage writes it anew."""
        if not isinstance(data, dict):
            return None
        return cls(str(data["leaf"]), int(data["pr"]), str(data["matched_leaf"]), float(data["score"]),
                   tuple((str(a), str(b)) for a, b in data["examples"]))


@dataclass(frozen=True, slots=True)
class PullRow:
    """One PR as the dashboard and the lifecycle see it (times are epoch seconds)."""

    repo: str
    number: int
    title: str
    author: str
    html_url: str
    state: str
    draft: bool
    created_at: float
    activity_at: float  # last activity by a person (not a bot)
    waiting_since: float  # opened or last pushed: what the contributor waits on since
    head_sha: str
    base_ref: str
    labels: tuple[str, ...] = ()
    requested: tuple[str, ...] = ()  # reviewers requested
    triage: dict[str, Any] | None = None  # {"conclusion", "errors", "warnings"}
    review: dict[str, Any] | None = None  # {"lgtms", "required", "holds", "approvals", "blockers", ...}
    similar: tuple[SimilarMatch, ...] = ()  # leaves of open PRs the duplicate check matched
    leaves: tuple[str, ...] = ()
    private: bool = False  # in a private repository: shown only where the operator allows it


@dataclass(frozen=True, slots=True)
class BuildRow:
    id: str
    finished_at: float
    status: str  # published, rejected, failed, paused
    gate: str  # passed, rejected, not evaluated
    leaves_in: tuple[str, ...] = ()
    leaves_out: tuple[str, ...] = ()
    report_url: str = ""


class Store:
    """The store, on SQLite or PostgreSQL; thread-safe, every method one short transaction or one read."""

    def __init__(self, location: str | Path) -> None:
        """`location`: a postgresql:// URL, or the SQLite file's path."""
        self.db: Database = open_database(location)
        self.db.migrate(MIGRATIONS)
        self._pull_columns = PULL_COLUMNS[self.db.dialect]

    @classmethod
    def open(cls, data_dir: Path, database_url: str = "") -> Store:
        """The store of a bot: PostgreSQL when `database_url` is set, else SQLite in `data_dir`."""
        return cls(database_url or data_dir / STORE_FILE)

    def _tx(self) -> Any:
        return self.db.tx()

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[Mapping[str, Any]]:
        return self.db.read(sql, args)

    # pull requests ------------------------------------------------------------------------------
    def upsert_pull(self, row: PullRow, *, only_new: bool = False) -> None:
        """What a webhook shows of a PR; triage, review and similarity are kept from earlier writes.
        `only_new`: written only when the PR is not known yet (what a job read of a PR no webhook showed)."""
        merge = "DO NOTHING" if only_new else UPDATE_PULL
        with self._tx() as db:
            db.execute(
                f"""INSERT INTO pulls (repo, number, title, author, html_url, state, draft, created_at, activity_at,
                       waiting_since, head_sha, base_ref, labels, requested, private)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (repo, number) {merge}""",
                (row.repo, row.number, row.title, row.author, row.html_url, row.state, int(row.draft),
                 row.created_at, row.activity_at, row.waiting_since, row.head_sha, row.base_ref,
                 json.dumps(list(row.labels)), json.dumps(list(row.requested)), int(row.private)))

    def set_repo_private(self, repo: str, private: bool) -> None:
        """What a webhook said of the repository: its jobs and deliveries are public only when it is."""
        with self._tx() as db:
            db.execute("INSERT INTO repos VALUES (?,?) ON CONFLICT (repo) DO UPDATE SET private=excluded.private",
                       (repo, int(private)))

    def public_repos(self) -> set[str]:
        return {r["repo"] for r in self._read("SELECT repo FROM repos WHERE private = 0")}

    def touch_pull(self, repo: str, number: int, at: float) -> None:
        """A person's activity on the PR (a comment, a review): the stale clock restarts."""
        with self._tx() as db:
            db.execute("UPDATE pulls SET activity_at = CASE WHEN ? > activity_at THEN ? ELSE activity_at END "
                       "WHERE repo=? AND number=?", (at, at, repo, number))

    def set_labels(self, repo: str, number: int, labels: list[str]) -> None:
        with self._tx() as db:
            db.execute("UPDATE pulls SET labels=? WHERE repo=? AND number=?",
                       (json.dumps(sorted(labels)), repo, number))

    def set_requested(self, repo: str, number: int, requested: list[str]) -> None:
        with self._tx() as db:
            db.execute("UPDATE pulls SET requested=? WHERE repo=? AND number=?",
                       (json.dumps(sorted(requested)), repo, number))

    def set_triage(self, repo: str, number: int, head_sha: str, triage: dict[str, Any], leaves: list[str],
                   similar: list[SimilarMatch]) -> None:
        ordered = sorted(similar, key=lambda m: (m.leaf, m.pr, m.matched_leaf))
        with self._tx() as db:
            db.execute("UPDATE pulls SET triage=?, leaves=?, \"similar\"=? WHERE repo=? AND number=? AND head_sha=?",
                       (json.dumps(triage), json.dumps(leaves), json.dumps([m.to_json() for m in ordered]), repo,
                        number, head_sha))

    def set_review(self, repo: str, number: int, review: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("UPDATE pulls SET review=? WHERE repo=? AND number=?", (json.dumps(review), repo, number))

    def pull(self, repo: str, number: int) -> PullRow | None:
        rows = self._read(f"SELECT {self._pull_columns} FROM pulls WHERE repo=? AND number=?", (repo, number))
        return _pull(rows[0]) if rows else None

    def open_pulls(self, repo: str | None = None, *, private: bool = True) -> list[PullRow]:
        """Open PRs, longest waiting first; `private=False` leaves out those of private repositories."""
        hidden = "" if private else " AND private=0"
        if repo is None:
            rows = self._read(f"SELECT {self._pull_columns} FROM pulls WHERE state='open'{hidden} "
                              "ORDER BY waiting_since, repo, number")
        else:
            rows = self._read(f"SELECT {self._pull_columns} FROM pulls WHERE state='open' AND repo=?{hidden} "
                              "ORDER BY waiting_since, number", (repo,))
        return [_pull(r) for r in rows]

    # queue and workers ----------------------------------------------------------------------------
    def record_delivery(self, delivery: str, event: str, action: str | None, repo: str | None, pr: int | None,
                        jobs: int, at: float) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO deliveries VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                       "event=excluded.event, action=excluded.action, repo=excluded.repo, pr=excluded.pr, "
                       "jobs=excluded.jobs, received_at=excluded.received_at",
                       (delivery, event, action, repo, pr, jobs, at))
            db.execute("DELETE FROM deliveries WHERE id NOT IN "
                       "(SELECT id FROM deliveries ORDER BY received_at DESC LIMIT ?)", (KEEP_DELIVERIES,))

    def deliveries(self, limit: int = 30, *, private: bool = True) -> list[Mapping[str, Any]]:
        hidden = "" if private else f" WHERE {PUBLIC_REPO}"
        return self._read(f"SELECT * FROM deliveries{hidden} ORDER BY received_at DESC LIMIT ?", (limit,))

    def job_queued(self, key: str, route: str, repo: str, pr: int | None, at: float) -> None:
        with self._tx() as db:
            db.execute("""INSERT INTO jobs (key, route, repo, pr, state, queued_at, updated_at)
                          VALUES (?,?,?,?,'queued',?,?)
                          ON CONFLICT (key) DO UPDATE SET state='queued', attempts=0, reason=NULL, worker=NULL,
                              queued_at=excluded.queued_at, updated_at=excluded.updated_at""",
                       (key, route, repo, pr, at, at))

    def job_running(self, key: str, route: str, repo: str, pr: int | None, worker: str, at: float) -> None:
        """A worker took the job (recorded even when its queueing was not: a job recovered after a crash)."""
        with self._tx() as db:
            db.execute("""INSERT INTO jobs (key, route, repo, pr, state, worker, queued_at, updated_at)
                          VALUES (?,?,?,?,'running',?,?,?)
                          ON CONFLICT (key) DO UPDATE SET state='running', worker=excluded.worker,
                              updated_at=excluded.updated_at""",
                       (key, route, repo, pr, worker, at, at))

    def job_state(self, key: str, state: str, at: float, *, worker: str | None = None, reason: str | None = None,
                  attempt: bool = False) -> None:
        """retrying / done / failed; `attempt` counts a run that raised."""
        with self._tx() as db:
            db.execute("UPDATE jobs SET state=?, updated_at=?, worker=coalesce(?, worker), "
                       "reason=coalesce(?, reason), attempts=attempts+? WHERE key=?",
                       (state, at, worker, reason, int(attempt), key))
            db.execute("DELETE FROM jobs WHERE state='done' AND key NOT IN (SELECT key FROM jobs WHERE state='done' "
                       "ORDER BY updated_at DESC LIMIT ?)", (KEEP_FINISHED_JOBS,))

    def jobs(self, states: tuple[str, ...], limit: int = 100, *, private: bool = True) -> list[Mapping[str, Any]]:
        marks = ",".join("?" * len(states))
        hidden = "" if private else f" AND {PUBLIC_REPO}"
        return self._read(f"SELECT * FROM jobs WHERE state IN ({marks}){hidden} ORDER BY updated_at DESC LIMIT ?",
                          (*states, limit))

    def job_counts(self, *, private: bool = True) -> dict[str, int]:
        hidden = "" if private else f" WHERE {PUBLIC_REPO}"
        return {r["state"]: r["n"] for r in self._read(f"SELECT state, count(*) AS n FROM jobs{hidden} GROUP BY state")}

    def heartbeat(self, worker: str, current_job: str | None, at: float, *, keep_job: bool = False) -> None:
        """A worker is alive; `keep_job` leaves its current job as it is (the periodic beat)."""
        with self._tx() as db:
            db.execute("""INSERT INTO workers (id, heartbeat_at, current_job, started_at) VALUES (?,?,?,?)
                          ON CONFLICT (id) DO UPDATE SET heartbeat_at=excluded.heartbeat_at,
                              current_job=CASE WHEN ? = 1 THEN workers.current_job ELSE excluded.current_job END""",
                       (worker, at, current_job, at, int(keep_job)))
            db.execute("DELETE FROM workers WHERE heartbeat_at < ?", (at - FORGET_WORKERS_AFTER,))

    def workers(self) -> list[Mapping[str, Any]]:
        return self._read("SELECT * FROM workers ORDER BY heartbeat_at DESC")

    # builds -------------------------------------------------------------------------------------
    def record_build(self, build: BuildRow) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO builds VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
                       "finished_at=excluded.finished_at, status=excluded.status, gate=excluded.gate, "
                       "leaves_in=excluded.leaves_in, leaves_out=excluded.leaves_out, report_url=excluded.report_url",
                       (build.id, build.finished_at, build.status, build.gate, json.dumps(list(build.leaves_in)),
                        json.dumps(list(build.leaves_out)), build.report_url))

    def builds(self, limit: int = 20) -> list[BuildRow]:
        rows = self._read("SELECT * FROM builds ORDER BY finished_at DESC LIMIT ?", (limit,))
        return [BuildRow(r["id"], r["finished_at"], r["status"], r["gate"], tuple(json.loads(r["leaves_in"])),
                         tuple(json.loads(r["leaves_out"])), r["report_url"]) for r in rows]

    def build_down_since(self) -> float | None:
        """When the run of failing or paused builds that is still going on began; None when the last one went out."""
        since = None
        for build in self.builds(limit=1000):
            if build.status not in DOWN_STATUSES:
                break
            since = build.finished_at
        return since

    def build_back_at(self) -> float | None:
        """When the builds last came back up (the first good build after a down run), if they ever went down."""
        builds = self.builds(limit=1000)
        for newer, older in itertools.pairwise(builds):
            if newer.status not in DOWN_STATUSES and older.status in DOWN_STATUSES:
                return newer.finished_at
        return None

    # lifecycle memory -----------------------------------------------------------------------------
    def remember(self, repo: str, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO lifecycle VALUES (?,?,?) "
                       "ON CONFLICT (repo, key) DO UPDATE SET value=excluded.value", (repo, key, json.dumps(value)))

    def recall(self, repo: str, key: str) -> Any:
        rows = self._read("SELECT value FROM lifecycle WHERE repo=? AND key=?", (repo, key))
        return json.loads(rows[0]["value"]) if rows else None

    def claim(self, repo: str, key: str, value: Any) -> bool:
        """Remember `key` unless it is already there; True for the one caller that set it (welcome once)."""
        with self._tx() as db:
            cursor = db.execute("INSERT INTO lifecycle VALUES (?,?,?) ON CONFLICT DO NOTHING",
                                (repo, key, json.dumps(value)))
            return cursor.rowcount == 1

    def forget(self, repo: str, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM lifecycle WHERE repo=? AND key=?", (repo, key))


# The JSON columns come back as one array per row: one decode instead of six (the page reads 1,000 rows).
_PLAIN_COLUMNS = ("repo, number, title, author, html_url, state, draft, created_at, activity_at, waiting_since, "
                  "head_sha, base_ref, private, ")
PULL_COLUMNS = {
    "sqlite": _PLAIN_COLUMNS + "json_array(json(labels), json(requested), json(triage), json(review), "
                               "json(\"similar\"), json(leaves)) AS packed",
    "postgresql": _PLAIN_COLUMNS + "json_build_array(labels::json, requested::json, triage::json, review::json, "
                                   "\"similar\"::json, leaves::json)::text AS packed",
}


def _pull(r: Mapping[str, Any]) -> PullRow:
    labels, requested, triage, review, similar, leaves = json.loads(r["packed"])
    matches = tuple(m for m in map(SimilarMatch.from_json, similar) if m is not None)
    return PullRow(r["repo"], r["number"], r["title"], r["author"], r["html_url"], r["state"], bool(r["draft"]),
                   r["created_at"], r["activity_at"], r["waiting_since"], r["head_sha"], r["base_ref"], tuple(labels),
                   tuple(requested), triage, review, matches, tuple(leaves), bool(r["private"]))
