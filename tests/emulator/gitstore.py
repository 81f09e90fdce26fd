"""Git objects with real SHA-1s: blobs, nested trees and commits, enough for GitHub's content APIs.

Besides regular files a tree holds symbolic links (mode 120000, a blob of the target path) and
submodules (mode 160000, an entry of type `commit` naming a commit of another repository), as
hostile pull requests commit them.

SHAs are computed exactly as git computes them, so a sha the emulator hands out looks and
behaves like one from GitHub (40 hex, content-addressed, stable for the same content).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


def git_sha(kind: str, payload: bytes) -> str:
    """The SHA-1 git gives an object of KIND holding PAYLOAD."""
    return hashlib.sha1(f"{kind} {len(payload)}\0".encode() + payload).hexdigest()


SYMLINK, SUBMODULE, REGULAR = "120000", "160000", "100644"


class Special(bytes):
    """The content of an entry that is no regular file: a link's target path, or a submodule's
    `Subproject commit SHA` line (what a diff shows for it) with the commit and the remote URL."""

    mode: str
    commit: str | None
    url: str | None

    def __new__(cls, data: bytes, mode: str, commit: str | None = None, url: str | None = None) -> Special:
        obj = super().__new__(cls, data)
        obj.mode, obj.commit, obj.url = mode, commit, url
        return obj

    @classmethod
    def symlink(cls, target: str) -> Special:
        return cls(target.encode(), SYMLINK)

    @classmethod
    def submodule(cls, commit: str, url: str) -> Special:
        return cls(f"Subproject commit {commit}\n".encode(), SUBMODULE, commit, url)


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree: a file (blob) or a folder (tree)."""

    name: str
    mode: str
    type: str
    sha: str


@dataclass(frozen=True)
class Person:
    """A commit author or committer."""

    name: str
    email: str
    date: datetime


@dataclass
class Commit:
    """A commit and the full snapshot it records (path -> blob sha)."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Person
    committer: Person
    files: dict[str, str] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)  # path -> mode, for entries that are no regular file


class GitStore:
    """Every object of one repository, addressed by SHA."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.trees: dict[str, tuple[TreeEntry, ...]] = {}
        self.commits: dict[str, Commit] = {}
        self.submodule_urls: dict[str, str] = {}  # submodule commit sha -> its repository URL

    def add_blob(self, data: bytes) -> str:
        sha = git_sha("blob", data)
        self.blobs[sha] = data
        return sha

    def _write_tree(self, files: dict[str, str], modes: dict[str, str], prefix: str = "") -> str:
        """Store the nested trees for a flat {path: sha} map (MODES for links and submodules, by full
        path); returns the root tree's sha."""
        children: dict[str, dict[str, str]] = {}
        entries: list[TreeEntry] = []
        for path, sha in files.items():
            head, _, rest = path.partition("/")
            if rest:
                children.setdefault(head, {})[rest] = sha
            else:
                mode = modes.get(prefix + head, REGULAR)
                entries.append(TreeEntry(head, mode, "commit" if mode == SUBMODULE else "blob", sha))
        entries += [TreeEntry(name, "040000", "tree", self._write_tree(sub, modes, f"{prefix}{name}/"))
                    for name, sub in children.items()]
        # git sorts entries by name, a folder as if its name ended with "/".
        entries.sort(key=lambda e: e.name + ("/" if e.type == "tree" else ""))
        payload = b"".join(
            f"{e.mode.lstrip('0')} {e.name}\0".encode() + bytes.fromhex(e.sha) for e in entries
        )
        sha = git_sha("tree", payload)
        self.trees[sha] = tuple(entries)
        return sha

    def commit(self, files: dict[str, bytes | None], parents: tuple[str, ...], message: str,
               author: Person, committer: Person | None = None) -> Commit:
        """A new commit: the first parent's snapshot with FILES applied (None deletes a path)."""
        snapshot = dict(self.commits[parents[0]].files) if parents else {}
        modes = dict(self.commits[parents[0]].modes) if parents else {}
        for path, data in files.items():
            modes.pop(path, None)
            if data is None:
                if path not in snapshot:
                    raise KeyError(f"cannot delete {path!r}: not in the parent commit")
                del snapshot[path]
            elif isinstance(data, Special) and data.commit is not None:
                snapshot[path] = data.commit  # a submodule names a commit of another repository
                self.blobs[data.commit] = bytes(data)  # what a diff of it shows
                self.submodule_urls[data.commit] = data.url or ""
                modes[path] = data.mode
            else:
                snapshot[path] = self.add_blob(bytes(data))
                if isinstance(data, Special):
                    modes[path] = data.mode
        return self.commit_snapshot(snapshot, parents, message, author, committer, modes)

    def commit_snapshot(self, snapshot: dict[str, str], parents: tuple[str, ...], message: str,
                        author: Person, committer: Person | None = None,
                        modes: dict[str, str] | None = None) -> Commit:
        """A new commit recording exactly SNAPSHOT (path -> sha; MODES for links and submodules)."""
        committer = committer or author
        modes = {path: mode for path, mode in (modes or {}).items() if path in snapshot}
        tree = self._write_tree(snapshot, modes)
        lines = [f"tree {tree}", *(f"parent {p}" for p in parents),
                 f"author {_signature(author)}", f"committer {_signature(committer)}", "", message]
        sha = git_sha("commit", "\n".join(lines).encode())
        commit = Commit(sha, tree, parents, message, author, committer, dict(snapshot), modes)
        self.commits[sha] = commit
        return commit

    def ancestors(self, sha: str) -> list[str]:
        """SHA and every commit reachable from it, nearest first."""
        seen: list[str] = []
        queue = [sha]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.append(current)
            queue.extend(self.commits[current].parents)
        return seen

    def merge_base(self, a: str, b: str) -> str | None:
        """The nearest common ancestor of A and B, None when they share no history."""
        of_a = set(self.ancestors(a))
        return next((sha for sha in self.ancestors(b) if sha in of_a), None)

    def walk_tree(self, sha: str, prefix: str = "") -> list[tuple[str, TreeEntry]]:
        """Every (path, entry) under tree SHA, depth first, folders before their content."""
        found = []
        for entry in self.trees[sha]:
            path = f"{prefix}{entry.name}"
            found.append((path, entry))
            if entry.type == "tree":
                found += self.walk_tree(entry.sha, f"{path}/")
        return found


def _signature(person: Person) -> str:
    return f"{person.name} <{person.email}> {int(person.date.timestamp())} +0000"


def now() -> datetime:
    """The current time in UTC, to the second, as GitHub reports times."""
    return datetime.now(UTC).replace(microsecond=0)
