"""What `/queue` may show of the machines that run the bot: nothing that names them (issue 22).

Worker ids (`host:pid/thread`) become a digest, and failure reasons lose their paths, addresses,
host names and process ids, before a page sees them.
"""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterable, Mapping
from typing import Any

ABSOLUTE_PATH = re.compile(r"(?:(?<=[\s'\"(=:])|^)(?:[A-Za-z]:)?[/\\](?:[^\s'\"/\\]+[/\\])+[^\s'\",)]*")
ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b|\[[0-9a-fA-F:]+\](?::\d+)?")
PID = re.compile(r"\b(pid|process)[ =:]*\d+\b", re.IGNORECASE)
THREAD_NUMBER = re.compile(r"(\d+)$")


def public_text(text: str, hosts: Iterable[str] = ()) -> str:
    """`text` (an error's message) without local paths, addresses, host names or process ids."""
    text = ABSOLUTE_PATH.sub("[path]", text)
    text = ADDRESS.sub("[address]", text)
    text = PID.sub(lambda m: f"{m.group(1)} [id]", text)
    for host in {h for h in (*hosts, socket.gethostname(), socket.getfqdn()) if h and h != "localhost"}:
        text = re.sub(rf"\b{re.escape(host)}\b", "[host]", text, flags=re.IGNORECASE)
    return text


def worker_name(worker_id: str) -> str:
    """A worker as the page shows it: `host:pid/thread` becomes `worker 3fa2c1` (or `... thread 2`), a name
    that stays the same for the process and says nothing about the machine."""
    process, _, thread = worker_id.partition("/")
    name = "worker " + hashlib.sha256(process.encode()).hexdigest()[:6]
    number = THREAD_NUMBER.search(thread)
    return f"{name} thread {number.group(1)}" if number else (f"{name} thread" if thread else name)


def public_job(job: Mapping[str, Any]) -> dict[str, Any]:
    """A job row for the page: its worker by `worker_name`, its reason by `public_text`."""
    worker = job["worker"]
    return {**dict(job), "worker": worker_name(worker) if worker else "",
            "reason": public_text(job["reason"], _hosts(worker)) if job["reason"] else ""}


def public_worker(worker: Mapping[str, Any], shown_repos: set[str] | None) -> dict[str, Any]:
    """A worker row for the page; its current job names the repository only when the page may show it."""
    current = worker["current_job"] or ""
    route, _, target = current.partition(" ")
    repo = target.partition("#")[0]
    if target and "/" in repo and shown_repos is not None and repo not in shown_repos:
        current = route
    return {**dict(worker), "id": worker_name(worker["id"]), "current_job": public_text(current, _hosts(worker["id"]))}


def _hosts(worker_id: str | None) -> tuple[str, ...]:
    return (worker_id.partition(":")[0],) if worker_id and ":" in worker_id else ()
