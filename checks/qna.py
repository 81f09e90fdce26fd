"""A contribution file as the checks see it: where it sits, what it says, which schema applies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from checks.document import Document, PathKey, format_yaml_path
from checks.findings import Finding, Severity, Similar
from checks.paths import kind_of, taxonomy_path
from checks.sources import Source


def parse_schema_mode(value: str | int) -> str | int:
    """`latest`, `own` or a version number, from a command line or a setting (the one parser)."""
    if value in ("latest", "own") or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    raise ValueError(f"the schema version must be latest, own or a version number, not {value!r}")


def resolve_version(mode: str | int, data: dict[str, Any], latest: int) -> int:
    """The schema version to validate against: upstream's rules for `latest`, `own` and a number."""
    if mode == "latest":
        return latest
    if mode == "own":
        declared = data.get("version", 1)
        if isinstance(declared, int) and not isinstance(declared, bool):
            return declared
        try:
            return int(declared)
        except (TypeError, ValueError):
            return 1  # the schema check reports the bad value itself
    return int(mode)


@dataclass(slots=True)
class QnaFile:
    """One parsed qna.yaml. `data` is a mapping: files that are not never reach the checks."""

    source: Source
    document: Document
    version: int

    @property
    def data(self) -> dict[str, Any]:
        return self.document.data

    @property
    def tax_path(self) -> PurePosixPath | None:
        return taxonomy_path(self.source.path)

    @property
    def path(self) -> str:
        """Taxonomy-relative path for reports; the path as given when outside the taxonomy."""
        tp = self.tax_path
        return tp.as_posix() if tp is not None else self.source.source

    @property
    def kind(self) -> str:
        return kind_of(self.tax_path)

    @property
    def top_folder(self) -> str | None:
        tp = self.tax_path
        return tp.parts[0] if tp is not None else None

    @property
    def is_knowledge(self) -> bool:
        return self.kind == "knowledge" or (self.kind != "skill" and "document" in self.data)

    @property
    def is_grounded(self) -> bool:
        examples = self.data.get("seed_examples")
        has_context = isinstance(examples, list) and any(
            isinstance(e, dict) and "context" in e for e in examples
        )
        return not self.is_knowledge and has_context

    def finding(
        self, check: str, severity: Severity, message: str, at: PathKey = (), *, key: bool = False,
        similar: tuple[Similar, ...] = (),
    ) -> Finding:
        """A finding at the real position of `at` in this file."""
        line, column = self.document.positions.locate(at, key=key)
        return Finding(
            check=check,
            severity=severity,
            message=message,
            path=self.path,
            line=line,
            column=column,
            yaml_path=format_yaml_path(at),
            similar=similar,
        )
