"""Weekly builds on the dashboard: a build folder's `build.json` (written by `pipeline`) as a store row.

The bot reads the file and never imports `pipeline`. A build that was published went out; one
the gate rejected, or that stopped before the gate, did not: while the newest build did not go
out (or the build is marked paused) the lifecycle's stale clocks stop.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bot.dashboard.store import BuildRow


class BuildRecordError(RuntimeError):
    """The build folder cannot be read; the message names the file."""


def build_row(build_dir: Path, report_url: str = "", at: float | None = None) -> BuildRow:
    """The store's row for a build folder: status, gate decision, leaves in and out, report link."""
    path = Path(build_dir) / "build.json"
    try:
        report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BuildRecordError(f"{path}: cannot read the build report: {exc}") from None
    if not isinstance(report, dict):
        raise BuildRecordError(f"{path}: the build report is not a JSON object")
    gate = report.get("gate")
    decision = "not evaluated" if not isinstance(gate, dict) else "passed" if gate.get("passed") else "rejected"
    status = "published" if report.get("published") else "rejected" if decision == "rejected" else "failed"
    leaves = report.get("leaves") if isinstance(report.get("leaves"), dict) else {}
    used = [str(leaf) for leaf in leaves.get("used", [])]
    skipped = [str(s.get("leaf")) if isinstance(s, dict) else str(s) for s in leaves.get("skipped", [])]
    commit = str((report.get("taxonomy") or {}).get("commit") or "")[:12]
    finished = path.stat().st_mtime if at is None else at
    return BuildRow(id=f"{commit or Path(build_dir).name}@{int(finished)}", finished_at=finished, status=status,
                    gate=decision, leaves_in=tuple(used), leaves_out=tuple(skipped), report_url=safe_url(report_url))


def paused_row(reason: str, at: float | None = None) -> BuildRow:
    """A marker that the weekly build is paused (maintenance, a known outage): stale clocks stop."""
    at = time.time() if at is None else at
    return BuildRow(id=f"paused@{int(at)}", finished_at=at, status="paused", gate=reason or "paused by a maintainer")


def safe_url(url: str) -> str:
    """Only http(s) links; anything else (a `javascript:` URL) is dropped."""
    if url and not url.startswith(("https://", "http://")):
        raise BuildRecordError(f"--report-url {url!r}: only http:// and https:// links are shown")
    return url
