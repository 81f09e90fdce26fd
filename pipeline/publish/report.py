"""`build.json`: the build report that every stage reads, extends with its own sections and writes back.

Each stage owns top-level sections (generation: `taxonomy`, `leaves`, `teacher`, `samples`,
`stages`; training: `training`; ...) and never drops the others'. Writes are atomic
(`pipeline.files.write_json_atomic`), so a crash never leaves half a JSON file.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from pipeline.files import write_json_atomic

REPORT_NAME = "build.json"
_lock = threading.Lock()


class ReportError(RuntimeError):
    """build.json exists but cannot be read as a JSON object."""


def report_path(build_dir: Path) -> Path:
    return Path(build_dir) / REPORT_NAME


def read_report(build_dir: Path) -> dict[str, Any]:
    """The report as a dict; empty when the build folder has none yet."""
    path = report_path(build_dir)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: cannot read the build report: {exc}") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: the build report is not a JSON object")
    return data


def update_report(build_dir: Path, sections: dict[str, Any]) -> dict[str, Any]:
    """Replace the given top-level sections, keep every other one; returns the new report."""
    with _lock:
        report = read_report(build_dir)
        report.update(sections)
        write_json_atomic(report_path(build_dir), report)
        return report
