"""What a commit holds never changes: its tree and its blobs are read from GitHub once per process.

Triage, the precheck, the lifecycle and the review workflow all read the same head: the tree
(paths, modes, blob ids; one recursive call) and the files in it. Keyed by commit SHA and blob
SHA, a cached answer is always right, so every job of the process shares one `ReadCache`, bounded
by entries and bytes (the oldest go first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

Tree = dict[str, tuple[str, str]]  # path -> (mode, blob sha)

MAX_TREES = 64
MAX_BLOB_BYTES = 64 * 1024 * 1024


@dataclass
class ReadCache:
    max_trees: int = MAX_TREES
    max_blob_bytes: int = MAX_BLOB_BYTES
    _trees: OrderedDict[tuple[str, str], Tree] = field(default_factory=OrderedDict)
    _blobs: OrderedDict[str, bytes] = field(default_factory=OrderedDict)
    _blob_bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tree(self, repo: str, commit: str, read: Callable[[], Tree]) -> Tree:
        """The tree of `commit` in `repo`, read with `read()` the first time."""
        key = (repo, commit)
        with self._lock:
            if key in self._trees:
                self._trees.move_to_end(key)
                return self._trees[key]
        tree = read()
        with self._lock:
            self._trees[key] = tree
            while len(self._trees) > self.max_trees:
                self._trees.popitem(last=False)
        return tree

    def blob(self, sha: str, read: Callable[[], bytes]) -> bytes:
        """The blob `sha`, read with `read()` the first time (one larger than the whole budget is not kept)."""
        with self._lock:
            if sha in self._blobs:
                self._blobs.move_to_end(sha)
                return self._blobs[sha]
        data = read()
        with self._lock:
            if len(data) <= self.max_blob_bytes and sha not in self._blobs:
                self._blobs[sha] = data
                self._blob_bytes += len(data)
                while self._blob_bytes > self.max_blob_bytes:
                    self._blob_bytes -= len(self._blobs.popitem(last=False)[1])
        return data
