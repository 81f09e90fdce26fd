"""`Checker`: run the selected checks over files and PR metadata, and build the report."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from checks.config import ChecksConfig, RepoConfig
from checks.context import CheckContext
from checks.document import Document, DocumentError, check_size, decode
from checks.findings import FileReport, Finding, Report, Severity
from checks.paths import kind_of, taxonomy_path
from checks.qna import QnaFile, resolve_version
from checks.registry import CHECKS, select
from checks.schema import latest_version
from checks.sources import Source, SourceError

# Below this many files a process pool costs more than it saves.
PARALLEL_THRESHOLD = 64


@dataclass(frozen=True, slots=True)
class Checked:
    """A file's report and what the checker parsed (None when it could not be read or parsed), so a
    caller such as the build uses the same bounded parse instead of reading the file a second time."""

    report: FileReport
    qna: QnaFile | None


class Checker:
    """Checks files with one configuration; the public surface is `check` and `check_file`."""

    def __init__(
        self,
        config: RepoConfig | ChecksConfig | None = None,
        *,
        only: Sequence[str] = (),
        skip: Sequence[str] = (),
        schema_version: str | int | None = None,
        index: Any = None,
        jobs: int = 1,
    ) -> None:
        if isinstance(config, RepoConfig):
            config = config.checks
        self.config: ChecksConfig = config or ChecksConfig()
        self.selected = select(only, skip, self.config.disable)
        self.schema_mode = schema_version if schema_version is not None else self.config.schema_version
        self.index = index
        self.jobs = max(1, jobs)
        self._load_checks()

    def _load_checks(self) -> None:
        """Import the selected checks' code (content checks pull in their libraries here)."""
        chosen = [c for c in CHECKS if c.id in self.selected and c.target]
        self._file_checks = [(c.id, c.load()) for c in chosen if c.scope == "file"]
        self._pr_checks = [(c.id, c.load()) for c in chosen if c.scope == "pr"]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_file_checks")
        state.pop("_pr_checks")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._load_checks()

    def check(self, sources: Iterable[Source], pr: Any = None) -> Report:
        """Check every file, then the PR metadata when given."""
        sources = list(sources)
        if self.jobs > 1 and len(sources) >= PARALLEL_THRESHOLD and self.index is None:
            with ProcessPoolExecutor(max_workers=self.jobs) as pool:
                files = list(pool.map(self.check_file, sources, chunksize=16))
        else:
            files = [self.check_file(s) for s in sources]
        report = Report(files=files)
        if pr is not None:
            ctx = self._context(pr=pr)
            for _, run in self._pr_checks:
                report.findings.extend(run(pr, ctx))
        return report

    def _context(self, pr: Any = None) -> CheckContext:
        return CheckContext(config=self.config, schema_mode=self.schema_mode, index=self.index, pr=pr)

    def check_file(self, source: Source) -> FileReport:
        """All selected checks on one file; a file that cannot be read gets a finding, not a crash."""
        return self.check_parsed(source).report

    def check_parsed(self, source: Source) -> Checked:
        """`check_file`, handing back the parsed file beside the report."""
        tax = taxonomy_path(source.path)
        report = FileReport(path=tax.as_posix() if tax else source.source, source=source.source,
                            kind=kind_of(tax))
        found: list[Finding] = []

        def emit(check: str, severity: Severity, message: str, line: int | None = None,
                 column: int | None = None) -> None:
            if check in self.selected:
                found.append(Finding(check, severity, message, report.path, line, column))

        if source.path.name != "qna.yaml":
            emit("file-name", Severity.ERROR,
                 f'Taxonomy file must be named "qna.yaml"; "{source.path.name}" is not a valid name: rename it')
        qna = self._read(source, emit)
        if qna is not None:
            report.schema_version = qna.version
            ctx = self._context()
            for _, run in self._file_checks:
                found.extend(run(qna, ctx))
        found.sort(key=lambda f: (f.line or 0, f.column or 0))
        report.findings = found
        return Checked(report, qna)

    def _read(self, source: Source, emit: Any) -> QnaFile | None:
        """Read and parse; report what stops the checks (unreadable, not YAML, empty, not a mapping)."""
        limits = self.config.limits
        try:
            check_size(source.size(), limits)
            document = Document.parse(decode(source.read()), limits)
        except SourceError as exc:
            emit("yaml-syntax", Severity.ERROR, f"cannot read the file: {exc}")
            return None
        except OSError as exc:
            emit("yaml-syntax", Severity.ERROR, f"cannot read the file: {exc.strerror or exc}")
            return None
        except DocumentError as exc:
            emit("yaml-syntax", Severity.ERROR, exc.message, exc.line, exc.column)
            return None
        data = document.data
        if not data:
            emit("yaml-syntax", Severity.WARNING, "The file is empty")
            return None
        if not isinstance(data, dict):
            line, column = document.positions.locate(())
            emit("schema", Severity.ERROR,
                 "The file is not valid. The top-level element is not an object with key-value pairs: "
                 "start from the template, with `version:`, `created_by:` and `seed_examples:` at the top",
                 line, column)
            return None
        version = resolve_version(self.schema_mode, data, latest_version())
        return QnaFile(source=source, document=document, version=version)


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))

