"""Knowledge documents: fetched with git at a pinned commit into a cache, then chunked by tokens.

The cache is keyed by repository and commit, so a document is fetched once for every build that
names the same commit. A mirror map (`URL=PATH`) sends a repository URL to a local repository for
offline builds; `file://` URLs and plain paths work as they are.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DONE_MARK = ".taxonomist-fetched"


class DocumentFetchError(RuntimeError):
    """A knowledge document cannot be fetched: the message names the repository and commit."""


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout
    except subprocess.CalledProcessError as exc:
        raise DocumentFetchError(f"git {' '.join(args)}: {exc.stderr.strip() or 'failed'}") from None


def resolve_url(repo: str, mirrors: Sequence[tuple[str, str]]) -> str:
    """The URL to fetch from: a mirror when one is configured for the repository."""
    wanted = repo.rstrip("/").removesuffix(".git")
    for url, target in mirrors:
        if url.rstrip("/").removesuffix(".git") == wanted:
            return target
    return repo


def fetch(repo: str, commit: str, cache: Path, mirrors: Sequence[tuple[str, str]] = ()) -> Path:
    """A checkout of `repo` at `commit` under the cache (fetched once per repository and commit)."""
    key = hashlib.sha256(repo.encode()).hexdigest()[:16]
    dest = cache / "documents" / key / commit
    if (dest / DONE_MARK).exists():
        return dest
    url = resolve_url(repo, mirrors)
    if dest.exists():
        shutil.rmtree(dest)  # an interrupted fetch
    dest.mkdir(parents=True)
    try:
        _git(["init", "-q"], dest)
        try:
            _git(["fetch", "-q", "--depth", "1", url, commit], dest)
        except DocumentFetchError:  # servers that refuse to serve a commit by its id: fetch everything
            _git(["fetch", "-q", url, "+refs/heads/*:refs/remotes/origin/*"], dest)
        _git(["-c", "advice.detachedHead=false", "checkout", "-q", commit], dest)
    except DocumentFetchError as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise DocumentFetchError(f"{repo} at {commit} (from {url}): {exc}") from None
    (dest / DONE_MARK).write_text(url + "\n")
    return dest


def matching_files(checkout: Path, patterns: Sequence[str]) -> list[Path]:
    """Files matching the leaf's glob patterns, relative to the repository root, in path order."""
    out = []
    for path in sorted(checkout.rglob("*")):
        rel = path.relative_to(checkout).as_posix()
        if path.is_file() and not rel.startswith(".git/") and any(fnmatch.fnmatch(rel, p) for p in patterns):
            out.append(path)
    return out


def _paragraphs(markdown: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]


def chunk_markdown(markdown: str, tokenizer: Any, max_tokens: int) -> list[str]:
    """Contexts of at most `max_tokens` student tokens: whole paragraphs packed, long ones split."""
    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    pieces: list[str] = []
    for para in _paragraphs(markdown):
        ids = tokenizer(para, add_special_tokens=False)["input_ids"]
        if len(ids) <= max_tokens:
            pieces.append(para)
            continue
        pieces.extend(tokenizer.decode(ids[i:i + max_tokens]).strip() for i in range(0, len(ids), max_tokens))
    chunks: list[str] = []
    current: list[str] = []
    for piece in pieces:
        candidate = "\n\n".join([*current, piece])
        if current and count(candidate) > max_tokens:
            chunks.append("\n\n".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def document_chunks(document: dict[str, Any], cache: Path, tokenizer: Any, max_tokens: int,
                    mirrors: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The leaf's Markdown documents, fetched and chunked."""
    repo, commit = str(document.get("repo", "")), str(document.get("commit", ""))
    patterns = [str(p) for p in document.get("patterns") or []]
    checkout = fetch(repo, commit, cache, mirrors)
    files = matching_files(checkout, patterns)
    if not files:
        raise DocumentFetchError(f"{repo} at {commit}: no file matches {patterns}")
    chunks: list[str] = []
    for file in files:
        chunks.extend(chunk_markdown(file.read_text(encoding="utf-8", errors="replace"), tokenizer, max_tokens))
    return chunks
