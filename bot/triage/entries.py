"""A contribution's files must be regular files: a link or a submodule is an error, never content.

Kinds come from the forge's tree (`Forge.entry_kind`: GitHub's trees API, or `git ls-tree` for
the dry run), never from the contents API, which answers a link to another file of the
repository with that file's content, nor from `git cat-file`, which reads a link's target text
as if it were the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.forges.forge import Forge
from checks.findings import FileReport, Finding, Report, Severity
from checks.paths import kind_of, taxonomy_path
from checks.sources import MemorySource

ATTRIBUTION = "attribution.txt"
MAX_FILES = 100  # qna files read per push: each costs API calls (upstream asks for one leaf per pull request)
_WHAT = {"symlink": "a symbolic link", "submodule": "a git submodule", "dir": "a folder"}


def _leaf_path(path: str) -> PurePosixPath:
    p = PurePosixPath(path)
    return taxonomy_path(p) or p


def not_regular(forge: Forge, path: str, ref: str) -> Finding | None:
    """An error when `path` exists at `ref` but is not a regular file (None when regular or absent)."""
    kind = forge.entry_kind(path, ref)
    if kind is None or kind == "file":
        return None
    name = PurePosixPath(path).name
    return Finding("attribution" if name == ATTRIBUTION else "file-name", Severity.ERROR,
                   f"`{name}` must be a regular file, not {_WHAT.get(kind, kind)}: commit the file's content "
                   "itself.", path=_leaf_path(path).as_posix())


@dataclass
class Contribution:
    """The qna files of a PR read at its head, and what could not be read because it is no regular file."""

    sources: list[MemorySource] = field(default_factory=list)
    irregular: list[FileReport] = field(default_factory=list)  # a qna file that is a link or a submodule
    links: dict[str, Finding] = field(default_factory=dict)  # qna source -> its attribution.txt is no file
    left_out: int = 0  # qna files beyond `MAX_FILES`, not read

    def complete(self, report: Report) -> Report:
        """`report` with the findings about irregular files: they replace what the attribution check
        said about an attribution it was not given."""
        for fr in report.files:
            if fr.source in self.links:
                fr.findings = [f for f in fr.findings if f.check != "attribution"] + [self.links[fr.source]]
        report.files += self.irregular
        if self.left_out:
            report.findings.append(Finding(
                "placement", Severity.ERROR,
                f"This pull request changes {MAX_FILES + self.left_out} taxonomy files; Taxonomist reads at most "
                f"{MAX_FILES} per pull request, and {self.left_out} were not checked. Split it into smaller pull "
                "requests (one leaf each, as the contribution guide asks)."))
        return report


def read_contribution(forge: Forge, paths: Sequence[str], ref: str) -> Contribution:
    """Each qna file at `ref` with its sibling `attribution.txt`, regular files only; at most `MAX_FILES`
    (the rest are counted in `left_out`)."""
    found = Contribution(left_out=max(0, len(paths) - MAX_FILES))
    for path in paths[:MAX_FILES]:
        if (problem := not_regular(forge, path, ref)) is not None:
            found.irregular.append(FileReport(path=_leaf_path(path).as_posix(), source=path,
                                              kind=kind_of(_leaf_path(path)), findings=[problem]))
            continue
        data = forge.read_file(path, ref)
        if data is None:
            continue
        sibling = (PurePosixPath(path).parent / ATTRIBUTION).as_posix()
        if (link := not_regular(forge, sibling, ref)) is not None:
            found.links[path] = link
            attribution = None
        else:
            attribution = forge.read_file(sibling, ref)
        siblings = ((ATTRIBUTION, attribution),) if attribution is not None else ()
        found.sources.append(MemorySource(source=path, data=data, siblings=siblings))
    return found
