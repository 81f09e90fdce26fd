"""Upstream parity on the real PR corpus: do we report an error exactly where upstream did?

Run `python -m benchmarks.parity [latest|own]` to print every disagreement; the corpus test
asserts there are none.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from checks.findings import Severity
from checks.runner import Checker, default_jobs
from checks.sources import DiskSource

# The checks upstream has; ours add more, which parity does not count.
UPSTREAM_CHECKS = ("yaml-syntax", "file-name", "yamllint", "schema", "attribution")
VERDICT_FILES = {"latest": "prs-schema-latest.jsonl", "own": "prs-schema-own-version.jsonl"}


def corpus_dir() -> Path:
    return Path(os.environ.get("TAXONOMIST_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


@dataclass(frozen=True)
class Verdict:
    pr: int
    file: str
    errors: int
    messages: tuple[str, ...]
    exception: str | None = None

    @property
    def path(self) -> Path:
        return corpus_dir() / "taxonomy-prs" / str(self.pr) / self.file


def verdicts(mode: str) -> list[Verdict]:
    lines = (corpus_dir() / "upstream-verdicts" / VERDICT_FILES[mode]).read_text().splitlines()
    out = []
    for line in lines:
        d = json.loads(line)
        out.append(Verdict(d["pr"], d["file"], d["errors"], tuple(d.get("messages", ())), d.get("exception")))
    return out


def disagreements(mode: str, jobs: int = 0) -> Iterator[tuple[Verdict, list[str]]]:
    """Each verdict where our error/no-error decision differs, with our error messages."""
    cases = verdicts(mode)
    checker = Checker(only=UPSTREAM_CHECKS, schema_version=mode, jobs=jobs or default_jobs())
    report = checker.check(DiskSource(str(v.path)) for v in cases)
    for verdict, file_report in zip(cases, report.files, strict=True):
        ours = [f"{f.check}:{f.line}:{f.column} {f.message}" for f in file_report.findings
                if f.severity is Severity.ERROR]
        if bool(ours) != (verdict.errors > 0):
            yield verdict, ours


def main(argv: list[str]) -> int:
    modes = argv or ["latest", "own"]
    total = 0
    for mode in modes:
        n = len(verdicts(mode))
        found = list(disagreements(mode))
        total += len(found)
        print(f"{mode}: {n - len(found)}/{n} files agree with upstream")
        for verdict, ours in found:
            print(f"  PR {verdict.pr} {verdict.file}: upstream {verdict.errors} errors {list(verdict.messages)[:3]}")
            print(f"    ours: {ours[:3]}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
