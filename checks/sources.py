"""Where a file's bytes come from: disk for `taxonomist check`, the GitHub API for the bot.

Checks never open files themselves; they get a `Source`, so the same checks run on a
checkout, on a PR read through the API, or on a git tree, and never follow a path out of
the taxonomy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Protocol

from checks.paths import taxonomy_root


class SourceError(Exception):
    """The file cannot be read at all (missing, a folder, a link out of the taxonomy)."""


class Source(Protocol):
    """A file to check: its name as given, its path for the taxonomy, its bytes, its siblings."""

    @property
    def source(self) -> str: ...

    @property
    def path(self) -> PurePath: ...

    def size(self) -> int: ...

    def read(self) -> bytes: ...

    def sibling(self, name: str) -> bytes | None:
        """The bytes of a file in the same folder (`attribution.txt`), None if there is none."""
        ...


@dataclass(frozen=True, slots=True)
class MemorySource:
    """A file held in memory, with its siblings: what the bot builds from API responses."""

    source: str
    data: bytes
    siblings: tuple[tuple[str, bytes], ...] = ()

    @property
    def path(self) -> PurePath:
        return PurePath(self.source)

    def size(self) -> int:
        return len(self.data)

    def read(self) -> bytes:
        return self.data

    def sibling(self, name: str) -> bytes | None:
        return dict(self.siblings).get(name)


@dataclass(frozen=True, slots=True)
class DiskSource:
    """A file on disk. Links are followed only while they stay inside the taxonomy checkout."""

    source: str

    @property
    def path(self) -> PurePath:
        return Path(os.path.abspath(self.source))

    def _confined(self, path: Path) -> Path:
        """The real path, refusing one that resolves outside the checkout holding `path`."""
        root = taxonomy_root(path) or path.parent
        real = path.resolve()
        real_root = Path(root).resolve()
        if real != real_root and real_root not in real.parents:
            raise SourceError(f"{path.name} is a link that leads out of the taxonomy (to {real})")
        return real

    def size(self) -> int:
        path = Path(self.path)
        if not path.exists() and not path.is_symlink():
            raise SourceError("no such file")
        if path.is_symlink() and not path.exists():
            raise SourceError("a broken symbolic link")
        real = self._confined(path)
        if not real.is_file():
            raise SourceError("not a regular file")
        return real.stat().st_size

    def read(self) -> bytes:
        return self._confined(Path(self.path)).read_bytes()

    def sibling(self, name: str) -> bytes | None:
        candidate = Path(self.path).parent / name
        try:
            real = self._confined(candidate)
        except SourceError:
            return None
        if not real.is_file():
            return None
        try:
            return real.read_bytes()
        except OSError:
            return None
