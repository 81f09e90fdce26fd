"""The corpus's pull requests as the bot sees them: each PR's contribution files, checked offline.

Shared by the corpus test of the comment's verdict and the folding benchmark. Files come from
`taxonomy-prs/<number>/` (what each PR's head added or changed), selected as triage selects them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath

from bot.triage.run import ATTRIBUTION, contribution_paths
from checks.config import RepoConfig
from checks.findings import Report
from checks.runner import Checker
from checks.sources import MemorySource


def pr_numbers(corpus: Path) -> list[int]:
    """Every PR of `taxonomy-prs/index.tsv`, with or without taxonomy files."""
    rows = (corpus / "taxonomy-prs" / "index.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [int(row.split("\t", 1)[0]) for row in rows if row.strip()]


def pr_sources(corpus: Path, number: int) -> list[MemorySource]:
    """The PR's qna files with their sibling attribution.txt, as triage reads them at the head."""
    folder = corpus / "taxonomy-prs" / str(number)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) \
        if folder.is_dir() else []
    sources = []
    for path in contribution_paths([(f, "added") for f in files], lambda p: (folder / p).is_file()):
        attribution = folder / PurePosixPath(path).parent / ATTRIBUTION
        siblings = ((ATTRIBUTION, attribution.read_bytes()),) if attribution.is_file() else ()
        sources.append(MemorySource(source=path, data=(folder / path).read_bytes(), siblings=siblings))
    return sources


def pr_reports(corpus: Path, numbers: Sequence[int], *, only: Sequence[str] = ("structural",),
               skip: Sequence[str] = ()) -> Iterator[tuple[int, Report]]:
    """(number, report) for each PR, with the default configuration (upstream's rules)."""
    checker = Checker(RepoConfig(), only=only, skip=skip)
    for number in numbers:
        yield number, checker.check(pr_sources(corpus, number))
