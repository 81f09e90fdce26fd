"""Findings and the report: the contract every check, format and the bot share."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

REPORT_FORMAT = 1


def plural(count: int, word: str) -> str:
    """`1 file`, `2 files`, `0 errors`: counts read as English."""
    return f"{count:,} {word}{'s' * (count != 1)}"


class Severity(enum.StrEnum):
    """`error` blocks a PR, `warning` asks a human to look, `info` only informs."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


MERGED = "base"  # the origin of merged leaves in an embedding index; any other origin is an open PR's


@dataclass(frozen=True, slots=True)
class Similar:
    """What a `duplicate` finding matched, as data: readers (the dashboard) never parse the message.

    `examples` pairs this leaf's example with the matched leaf's (YAML paths); it is empty when the
    leaves as a whole are alike (the same-task warning)."""

    leaf: str
    matched_leaf: str
    origin: str  # MERGED, or the open PR's origin label in the index (the bot's "pr/12")
    score: float
    examples: tuple[tuple[str, str], ...] = ()

    @property
    def merged(self) -> bool:
        return self.origin == MERGED

    def to_dict(self) -> dict[str, Any]:
        return {"leaf": self.leaf, "matched_leaf": self.matched_leaf, "origin": self.origin, "score": self.score,
                "examples": [list(pair) for pair in self.examples]}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found. `line` and `column` are 1-based positions in the file."""

    check: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    yaml_path: str | None = None
    similar: tuple[Similar, ...] = ()  # the `duplicate` check's matches, best merged and best open PR apart

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "severity": str(self.severity)}
        for key in ("path", "line", "column", "yaml_path"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["message"] = self.message
        if self.similar:
            out["similar"] = [s.to_dict() for s in self.similar]
        return out


@dataclass(slots=True)
class FileReport:
    """The findings for one checked file."""

    path: str
    source: str
    kind: str
    schema_version: int | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "source": self.source,
            "schema_version": self.schema_version,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(slots=True)
class Report:
    """Everything one run found: per file, plus what belongs to no file (PR template, DCO)."""

    files: list[FileReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def all_findings(self) -> list[Finding]:
        return [f for fr in self.files for f in fr.findings] + self.findings

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.all_findings() if f.severity is severity)

    def summary_line(self) -> str:
        """`2 files checked: 1 error, 0 warnings`, and the pull request's own findings counted apart."""
        def tally(found: list[Finding]) -> str:
            errors = sum(f.severity is Severity.ERROR for f in found)
            warnings = sum(f.severity is Severity.WARNING for f in found)
            return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"

        line = f"{plural(len(self.files), 'file')} checked: {tally([f for fr in self.files for f in fr.findings])}"
        if self.findings:
            line += f"; the pull request (template, sign-off): {tally(self.findings)}"
        return line

    @property
    def errors(self) -> int:
        return self.count(Severity.ERROR)

    @property
    def warnings(self) -> int:
        return self.count(Severity.WARNING)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "files": [fr.to_dict() for fr in self.files],
            "findings": [f.to_dict() for f in self.findings],
            "summary": {"files": len(self.files), "errors": self.errors, "warnings": self.warnings},
        }
