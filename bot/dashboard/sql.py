"""The two databases the bot's store runs on, behind one small interface: SQLite (one machine, the
default) and PostgreSQL (`TAXONOMIST_DATABASE_URL`, several machines), and versioned migrations.

The store's SQL is written once, in the dialect both understand (`?` placeholders, `ON CONFLICT`
upserts, `CASE` rather than `max`/`GREATEST`); the PostgreSQL side only turns `?` into psycopg's
`%s`. Rows come back as mappings by column name on both. Each thread keeps its own connection;
every write is one short transaction.

Migrations are numbered steps applied in order and recorded in `schema_version`, each in the same
transaction as its record: a step runs once per database, and two processes starting at once take
turns (SQLite: the write lock of `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
MIGRATION_LOCK = 0x7461786F  # the advisory lock's key ("taxo"): any fixed number every bot process agrees on
# Text neither database stores: U+0000 (PostgreSQL's text refuses it) and lone surrogates (not UTF-8; JSON's
# "\ud800" decodes to one). A webhook may carry either: stored as U+FFFD on both, so both read back the same.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
STANDIN = "\ufffd"


class DatabaseUnavailable(Exception):
    """The store's database cannot be reached; the message names it without its password."""


def redacted(url: str) -> str:
    """A database URL as logs and errors may show it: the password left out."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class Cursor(Protocol):
    rowcount: int

    def fetchall(self) -> list[Any]: ...


class Transaction:
    """Statements on one connection, in the store's dialect-neutral SQL."""

    def __init__(self, conn: Any, translate: Callable[[str], str] | None = None) -> None:
        self.conn, self.translate = conn, translate

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.conn.execute(self.translate(sql) if self.translate else sql, storable(args))


Migration = Callable[[Transaction, str], None]  # (transaction, dialect)


def is_postgres_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


class Database:
    """One database: `tx()` for writes, `read()` for one statement outside a transaction."""

    dialect: str

    def tx(self) -> Any:  # a context manager yielding a Transaction
        raise NotImplementedError

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    def migrate(self, migrations: Sequence[Migration]) -> int:
        """Apply the steps past the recorded version, in order; returns the version now recorded."""
        with self.tx() as db:
            self._lock_migrations(db)
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at "
                       "DOUBLE PRECISION NOT NULL)")
            current = db.execute("SELECT coalesce(max(version), 0) AS v FROM schema_version").fetchall()[0]["v"]
            for version, step in enumerate(migrations[current:], current + 1):
                step(db, self.dialect)
                db.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, time.time()))
            return max(current, len(migrations))

    def _lock_migrations(self, db: Transaction) -> None:
        pass


class SqliteDatabase(Database):
    """A file in the data directory; several processes on one machine share it (WAL)."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[Transaction]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # the write lock at once: no deadlock upgrading a read lock
        try:
            yield Transaction(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return Transaction(self._connection()).execute(sql, args).fetchall()


def _postgres_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled first); the store's SQL holds no `?` in a literal."""
    return sql.replace("%", "%%").replace("?", "%s")


def storable(args: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(UNSTORABLE.sub(STANDIN, a) if isinstance(a, str) else a for a in args)


class PostgresDatabase(Database):
    """A PostgreSQL database every web process and worker shares (psycopg 3, one connection per thread)."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def _connection(self) -> Any:
        import psycopg
        from psycopg.rows import dict_row

        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:  # first use in this thread, or the server went away and came back
            try:
                conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=30)
            except psycopg.OperationalError as exc:
                reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                raise DatabaseUnavailable(f"{redacted(self.url)}: {reason}") from None
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[Transaction]:
        conn = self._connection()
        with conn.transaction():
            yield Transaction(conn, _postgres_sql)

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[Mapping[str, Any]]:
        return Transaction(self._connection(), _postgres_sql).execute(sql, args).fetchall()

    def _lock_migrations(self, db: Transaction) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))  # held until this transaction ends


def open_database(location: str | Path) -> Database:
    """PostgreSQL for a postgresql:// URL, else the SQLite file at `location`."""
    if is_postgres_url(location):
        return PostgresDatabase(str(location))
    return SqliteDatabase(Path(location))
