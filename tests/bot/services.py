"""Throwaway real servers for tests and benchmarks: Debian's `redis-server` and PostgreSQL.

Each starts on a free loopback port with its data in a temporary folder and is gone when the block
ends. PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (Debian's
package creates it) or else `nobody`. Where a binary is absent, `missing()` says which and how to
install it; in CI (`CI` set) a missing server is an error, never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bot.process import free_port
from tests.bot.world import wait_for

REDIS_SERVER = shutil.which("redis-server")


def postgres_bin() -> Path | None:
    """The folder of `initdb` and `postgres`: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def missing(what: str) -> str | None:
    """Why a test needing `what` ("redis" or "postgresql") cannot run here, or None when it can."""
    absent = {"redis": REDIS_SERVER is None, "postgresql": postgres_bin() is None}[what]
    if not absent:
        return None
    package = {"redis": "redis-server", "postgresql": "postgresql"}[what]
    reason = f"{package} is not installed (apt-get install -y {package}; .ci/run and make setup install it)"
    if os.environ.get("CI"):
        raise RuntimeError(reason)  # CI must run these tests
    return reason


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server without persistence; yields its redis:// URL."""
    import redis

    assert REDIS_SERVER is not None, missing("redis")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="taxonomist-redis-") as folder:
        server = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", folder],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)

        def ready() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            wait_for(ready, timeout=20, what="redis-server")
            yield url
        finally:
            client.close()
            server.terminate()
            server.wait(timeout=10)


def _cluster_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists to own the cluster")


@contextlib.contextmanager
def postgres_server(max_connections: int = 300) -> Iterator[str]:
    """A fresh PostgreSQL cluster (no fsync: data lives as long as the test); yields a postgresql:// URL
    of its `taxonomist` database, on loopback with trust authentication."""
    import psycopg

    binaries = postgres_bin()
    assert binaries is not None, missing("postgresql")
    user = _cluster_user()
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="taxonomist-pg-"))
    data = folder / "data"
    if user is not None:
        shutil.chown(folder, user)
    as_user = {"user": user} if user is not None else {}
    log = folder / "server.log"
    try:
        subprocess.run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "taxonomist", "-E", "UTF8",
                        "--no-sync", "--no-instructions"], check=True, capture_output=True, cwd=folder, **as_user)
        with log.open("wb") as out:
            server = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-k", str(folder),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
                 "-c", "synchronous_commit=off", "-c", f"max_connections={max_connections}"],
                stdout=out, stderr=subprocess.STDOUT, cwd=folder, **as_user)
        base = f"postgresql://taxonomist@127.0.0.1:{port}"

        def ready() -> bool:
            assert server.poll() is None, log.read_text(errors="replace")
            try:
                with psycopg.connect(f"{base}/postgres", connect_timeout=2, autocommit=True) as conn:
                    conn.execute("CREATE DATABASE taxonomist")
                return True
            except psycopg.OperationalError:
                time.sleep(0.1)
                return False

        try:
            wait_for(ready, timeout=60, what="postgres")
            yield f"{base}/taxonomist"
        finally:
            server.send_signal(signal.SIGINT)  # a "fast" shutdown: SIGTERM's "smart" one waits for every client
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
