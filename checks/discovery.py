"""Which files to check: paths given, a list of paths, or what changed since a git ref."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from checks.paths import QNA_NAMES, TAXONOMY_ROOTS

# Folders walked for contributions; foundational_skills/ is upstream-only and never checked.
CHECKED_ROOTS = ("compositional_skills", "knowledge")
SKIP_DIRS = {".git", ".github", ".venv", "node_modules", "__pycache__", "foundational_skills"}


class DiscoveryError(Exception):
    """The files to check cannot be determined (a missing path, a bad ref): exit status 2."""


def expand(paths: Iterable[str]) -> list[str]:
    """Files as given; folders walked for qna.yaml / qna.yml. Order kept, duplicates dropped."""
    out: dict[str, None] = {}
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found = []
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                found.extend(os.path.join(dirpath, n) for n in sorted(filenames) if n in QNA_NAMES)
            out.update(dict.fromkeys(found))
        elif p.exists() or p.is_symlink():
            out[given] = None
        else:
            raise DiscoveryError(f"{given}: no such file or folder")
    return list(out)


def read_list(path: str, stdin_text: str | None = None) -> list[str]:
    """`--files-from FILE` (or `-`): one path a line, blank lines and `#` comments ignored."""
    if path == "-":
        text = stdin_text or ""
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise DiscoveryError(f"{path}: cannot read the file list: {exc.strerror or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except FileNotFoundError:
        raise DiscoveryError("--changed-since needs git on PATH") from None
    except subprocess.CalledProcessError as exc:
        reason = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else "git failed"
        raise DiscoveryError(f"git {' '.join(args)}: {reason}") from None
    return done.stdout


def _is_contribution(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return len(parts) > 1 and parts[0] in CHECKED_ROOTS and parts[-1] in QNA_NAMES


def changed_since(ref: str, repo: Path) -> list[str]:
    """Contribution files changed between the merge base with `ref` and the working tree.

    Untracked files count, deleted ones do not, as upstream's taxonomy diff does. A changed
    attribution.txt brings its qna.yaml along, since the pair is checked together.
    """
    top = Path(_git(["rev-parse", "--show-toplevel"], repo).strip())
    base = _git(["merge-base", ref, "HEAD"], top).strip()
    changed = _git(["diff", "--name-only", "--no-renames", "--diff-filter=d", "-z", base], top).split("\0")
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0")
    out: dict[str, None] = {}
    for rel in filter(None, [*changed, *untracked]):
        if PurePosixPath(rel).name == "attribution.txt":
            rel = str(PurePosixPath(rel).with_name("qna.yaml"))
        if _is_contribution(rel) and (top / rel).exists():
            out[os.path.relpath(top / rel)] = None
    return sorted(out)


def find_taxonomy_root(paths: Iterable[str]) -> Path | None:
    """The checkout holding the first path that sits under a taxonomy folder, for the config file."""
    for given in paths:
        parts = Path(os.path.abspath(given)).parts
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] in TAXONOMY_ROOTS:
                return Path(*parts[:i])
        p = Path(given)
        if p.is_dir() and any((p / r).is_dir() for r in TAXONOMY_ROOTS):
            return p
    return None
