"""The duplicate check's embedding index per repository: the merged taxonomy plus open PRs.

One `checks.index.EmbeddingIndex` per repository, saved under the data directory: leaves of the
default branch under origin `base` (rebuilt on `push`, built on first use), and each open PR's
leaves under `pr/<number>` (replaced at every triage, dropped when the PR closes). A PR is
checked against everything except its own origin. Kept only when the `duplicate` check runs.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from bot.forges.forge import Forge
from checks.findings import MERGED
from checks.paths import QNA_NAMES, kind_of, taxonomy_path
from checks.sources import MemorySource

BASE = MERGED


def pr_origin(number: int) -> str:
    return f"pr/{number}"


def pr_of_origin(origin: str) -> int | None:
    """The open PR an index origin names (`pr_origin`'s inverse); None for the merged taxonomy."""
    prefix, _, number = origin.partition("/")
    return int(number) if prefix == "pr" and number.isdigit() else None


def taxonomy_sources(forge: Forge, ref: str) -> list[MemorySource]:
    """Every skill and knowledge qna file at `ref`, read through the forge."""
    out = []
    for path in forge.list_files(ref):
        p = PurePosixPath(path)
        if p.name in QNA_NAMES and kind_of(taxonomy_path(p)) in ("skill", "knowledge"):
            data = forge.read_file(path, ref)
            if data is not None:
                out.append(MemorySource(source=path, data=data))
    return out


class IndexStore:
    """Indexes by repository name, cached in memory and (with a directory) on disk."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._indexes: dict[str, Any] = {}
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def seed(self, repo: str, index: Any) -> None:
        """Use `index` (say, one given with `bot dry-run --against`) as the repository's index."""
        self._indexes[repo] = index

    def _path(self, repo: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{repo.replace('/', '__')}.npz"

    def _get(self, forge: Forge, repo: str, base_ref: str, *, build: bool = True) -> Any:
        """The repository's index: cached, else loaded from disk, else built from `base_ref` (or empty)."""
        from checks.index import EmbeddingIndex, IndexFileError

        if repo not in self._indexes:
            path = self._path(repo)
            index = None
            if path is not None and path.exists():
                try:
                    index = EmbeddingIndex.load(path)
                except IndexFileError:
                    index = None  # stale or foreign: rebuilt below
            if index is None:
                index = EmbeddingIndex()
                if build:
                    index.update(taxonomy_sources(forge, base_ref), origin=BASE)
            self._indexes[repo] = index
        return self._indexes[repo]

    def _save(self, repo: str) -> None:
        path = self._path(repo)
        if path is not None:
            self._indexes[repo].save(path)

    def for_pull_request(self, forge: Forge, repo: str, number: int, base_ref: str,
                         sources: Sequence[MemorySource]) -> Any:
        """Record the PR's leaves, and return the index to check it against (without its own)."""
        with self._locks[repo]:
            index = self._get(forge, repo, base_ref)
            index.remove_origin(pr_origin(number))
            index.update(sources, origin=pr_origin(number))
            self._save(repo)
            return index.excluding(pr_origin(number))

    def forget_pull_request(self, forge: Forge, repo: str, number: int, base_ref: str) -> None:
        with self._locks[repo]:
            self._get(forge, repo, base_ref).remove_origin(pr_origin(number))
            self._save(repo)

    def refresh_base(self, forge: Forge, repo: str, ref: str) -> int:
        """Re-index the default branch at `ref`; only new texts are embedded. Returns its leaf count."""
        with self._locks[repo]:
            index = self._get(forge, repo, ref, build=False)
            sources = taxonomy_sources(forge, ref)
            index.remove_origin(BASE)
            index.update(sources, origin=BASE)
            self._save(repo)
            return sum(1 for origin, _ in index.leaves() if origin == BASE)
