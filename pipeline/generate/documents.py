"""Knowledge documents: fetched with git at a pinned commit into a cache, read from git's own objects,
then split by the documents' structure.

Every byte of a document repository is hostile. What the build may read (docs/build.md, "Documents"):
- only repositories on the remote schemes the settings allow (`document_schemes`, default `https`);
  a local repository (a path, `file://`) only through an explicit mirror (`--mirror URL=PATH` or
  `mirrors:`), and git itself is told which protocols it may use (`GIT_ALLOW_PROTOCOL`);
- a remote a leaf names only at a public address, checked and pinned, within time limits
  (`pipeline.generate.remote`); an error says what went wrong in `public` words, without the build
  machine's paths, hosts or git's own message, for what a PR is shown;
- only the repository's own tracked regular files at the pinned commit, read as blobs from git's
  object store: nothing is checked out, so a symbolic link in the tree is never followed (it is
  listed under `skipped` with the reason, as is a submodule), and a pattern matches tracked paths
  only, so it cannot leave the repository (one that tries is listed too).

The cache is keyed by repository and commit, so a document is fetched once for every build that
names the same commit.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from pipeline.generate.remote import FetchLimits, RemoteRefused, pinned_options
from pipeline.git import run_git

DONE_MARK = ".taxonomist-fetched"
DEFAULT_SCHEMES = ("https",)
FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
REGULAR_MODES = ("100644", "100755")
NOT_READ = {"120000": "a symbolic link: never followed", "160000": "a submodule: not part of this repository"}
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


class DocumentFetchError(RuntimeError):
    """A knowledge document cannot be fetched: the message names the repository and commit, with git's
    words for the build's log; `public` says what went wrong without them (for a PR's check run)."""

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public if public is not None else message


class _GitFailed(RuntimeError):
    """git's own failure: its message names local paths, never shown on a PR."""


# git's words -> what a PR may be told (the first that matches)
_PUBLIC_REASONS = (("stopped after", "took longer than the fetch deadline"),
                   ("too slow", "the transfer was too slow"),
                   ("timed out", "the connection timed out"),
                   ("not found", "the repository was not found"),
                   ("cat-file", "the commit is not in the repository"),
                   ("not our ref", "the commit is not in the repository"),
                   ("couldn't find remote ref", "the commit is not in the repository"))
_OUT_OF_TIME = {reason for _, reason in _PUBLIC_REASONS[:3]}


def _public_reason(git_message: str) -> str:
    lowered = git_message.lower()
    return next((reason for words, reason in _PUBLIC_REASONS if words in lowered), "the fetch failed")


def _git(args: list[str], cwd: Path, *, binary: bool = False, protocols: Sequence[str] = (),
         timeout: float | None = None, direct: bool = False) -> Any:
    """git in `cwd`; `direct`: no proxy from the environment (a proxy would resolve the pinned host again)."""
    env = {"GIT_ALLOW_PROTOCOL": ":".join(protocols)} if protocols else {}
    if direct:
        env |= {"NO_PROXY": "*", "no_proxy": "*"}
    return run_git(args, cwd, _GitFailed, binary=binary, env=env or None, timeout=timeout)


def resolve_url(repo: str, mirrors: Sequence[tuple[str, str]], schemes: Sequence[str] = DEFAULT_SCHEMES
                ) -> tuple[str, tuple[str, ...], bool]:
    """(URL to fetch, protocols git may use, whether it is a mirror): a configured mirror (which may be
    local, or served on the operator's own network), else the repository itself when its scheme is
    allowed; anything else is refused with the fix."""
    wanted = repo.rstrip("/").removesuffix(".git")
    for url, target in mirrors:
        if url.rstrip("/").removesuffix(".git") == wanted:
            own = urlsplit(target).scheme
            return target, tuple(dict.fromkeys(("file", *([own] if own.isalpha() and len(own) > 1 else []),
                                                *schemes))), True
    parts = urlsplit(repo)
    if parts.scheme not in schemes or not parts.netloc or parts.scheme == "file":
        allowed = ", ".join(f"{s}://" for s in schemes) or "none"
        raise DocumentFetchError(f"{repo}: not fetched: the build fetches documents only from {allowed} "
                                 "repositories (document_schemes); a local repository needs an explicit "
                                 "--mirror URL=PATH")
    return repo, tuple(schemes), False


def fetch(repo: str, commit: str, cache: Path, mirrors: Sequence[tuple[str, str]] = (),
          schemes: Sequence[str] = DEFAULT_SCHEMES, limits: FetchLimits = FetchLimits()) -> Path:
    """A bare repository under the cache holding `commit` of `repo` (fetched once per repository and commit)."""
    if not FULL_SHA.fullmatch(commit):
        raise DocumentFetchError(f"{repo}: commit {commit!r} is not a full commit SHA")
    url, protocols, mirrored = resolve_url(repo, mirrors, schemes)
    key = hashlib.sha256(repo.encode()).hexdigest()[:16]
    dest = cache / "documents" / key / commit
    if (dest / DONE_MARK).exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)  # an interrupted fetch
    try:
        options = limits.git_options() + ([] if mirrored else pinned_options(url, limits))
    except RemoteRefused as exc:
        raise DocumentFetchError(f"{repo}: not fetched: {exc}") from None
    dest.mkdir(parents=True)
    ends = time.monotonic() + limits.deadline
    try:
        _git(["init", "-q", "--bare"], dest)
        try:
            _git([*options, "fetch", "-q", "--no-tags", "--depth", "1", "--", url, commit], dest,
                 protocols=protocols, timeout=limits.deadline, direct=not mirrored)
        except _GitFailed as exc:  # servers that refuse to serve a commit by its id: fetch every branch
            if _public_reason(str(exc)) in _OUT_OF_TIME:
                raise
            _git([*options, "fetch", "-q", "--no-tags", "--", url, "+refs/heads/*:refs/remotes/origin/*"], dest,
                 protocols=protocols, timeout=max(0.1, ends - time.monotonic()), direct=not mirrored)
        _git(["cat-file", "-e", f"{commit}^{{commit}}"], dest)
    except _GitFailed as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise DocumentFetchError(f"{repo} at {commit} (from {url}): {exc}",
                                 public=f"{repo} at {commit}: not fetched: {_public_reason(str(exc))}") from None
    (dest / DONE_MARK).write_text(url + "\n")
    return dest


def _leaves_repository(pattern: str) -> bool:
    path = PurePosixPath(pattern)
    return path.is_absolute() or ".." in path.parts or pattern.startswith("~")


def tracked_files(repository: Path, commit: str, patterns: Sequence[str]
                  ) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """((path, blob id) of the tracked regular files matching the patterns, in path order; what was left
    out and why: links, submodules, patterns that would leave the repository)."""
    skipped = [{"pattern": p, "reason": "leaves the repository: patterns match paths inside it only"}
               for p in patterns if _leaves_repository(p)]
    inside = [p for p in patterns if not _leaves_repository(p)]
    try:
        listing = _git(["ls-tree", "-r", "-z", "--full-tree", commit], repository)
    except _GitFailed as exc:
        raise DocumentFetchError(str(exc), public="the fetched repository cannot be read") from None
    files: list[tuple[str, str]] = []
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, _, blob = meta.split(" ")
        if not any(fnmatch.fnmatch(path, p) for p in inside):
            continue
        if mode in REGULAR_MODES:
            files.append((path, blob))
        else:
            skipped.append({"path": path, "reason": NOT_READ.get(mode, f"not a regular file (mode {mode})")})
    return sorted(files), skipped


def _count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def sections(markdown: str) -> list[tuple[tuple[str, ...], list[str]]]:
    """(heading path, paragraphs) of each Markdown section with text, in order; `#` lines inside a fenced
    code block are text. A heading's path holds the headings above it (a `##` under a `#`)."""
    out: list[tuple[tuple[str, ...], list[str]]] = []
    stack: list[tuple[int, str]] = []
    paragraphs: list[str] = []
    lines: list[str] = []
    fenced = False

    def end_paragraph() -> None:
        if "".join(lines).strip():
            paragraphs.append("\n".join(lines).strip())
        lines.clear()

    def end_section() -> None:
        end_paragraph()
        if paragraphs:
            out.append((tuple(title for _, title in stack), list(paragraphs)))
        paragraphs.clear()

    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading:
            end_section()
            level = len(heading.group(1))
            stack[:] = [(lvl, title) for lvl, title in stack if lvl < level]
            stack.append((level, heading.group(2).strip()))
        elif not line.strip() and not fenced:
            end_paragraph()
        else:
            lines.append(line)
    end_section()
    return out


def _heading_lines(path: tuple[str, ...]) -> str:
    return "\n".join(f"{'#' * depth} {title}" for depth, title in enumerate(path, 1))


def chunk_markdown(markdown: str, tokenizer: Any, max_tokens: int) -> list[str]:
    """Contexts of at most `max_tokens` student tokens, split at headings, then at paragraphs (a longer
    paragraph is cut by tokens); each starts with its heading path, as docling's hybrid chunker does,
    so a chunk from deep in a document still says what it is about."""
    chunks: list[str] = []
    for path, paragraphs in sections(markdown):
        prefix = _heading_lines(path)
        if path and _count(tokenizer, prefix) > max_tokens // 2:
            prefix = _heading_lines(path[-1:])  # a very deep path: its last heading only
        head = prefix + "\n\n" if prefix else ""
        budget = max(1, max_tokens - _count(tokenizer, head))
        pieces: list[str] = []
        for para in paragraphs:
            ids = tokenizer(para, add_special_tokens=False)["input_ids"]
            if len(ids) <= budget:
                pieces.append(para)
            else:
                pieces.extend(tokenizer.decode(ids[i:i + budget]).strip() for i in range(0, len(ids), budget))
        current: list[str] = []
        for piece in pieces:
            if current and _count(tokenizer, head + "\n\n".join([*current, piece])) > max_tokens:
                chunks.append(head + "\n\n".join(current))
                current = []
            current.append(piece)
        if current:
            chunks.append(head + "\n\n".join(current))
    return chunks


@dataclass(slots=True)
class Documents:
    """A knowledge leaf's document contexts, and what was read or left out (for build.json)."""

    chunks: list[str]
    files: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {"files": self.files, "chunks": len(self.chunks), "skipped": self.skipped}


def document_chunks(document: dict[str, Any], cache: Path, tokenizer: Any, max_tokens: int,
                    mirrors: Sequence[tuple[str, str]] = (), schemes: Sequence[str] = DEFAULT_SCHEMES,
                    limits: FetchLimits = FetchLimits()) -> Documents:
    """The leaf's documents, fetched, read from git's objects and chunked."""
    repo, commit = str(document.get("repo", "")), str(document.get("commit", ""))
    patterns = [str(p) for p in document.get("patterns") or []]
    repository = fetch(repo, commit, cache, mirrors, schemes, limits)
    files, skipped = tracked_files(repository, commit, patterns)
    if not files:
        left = f" (left out: {'; '.join(s.get('path', s.get('pattern', '')) for s in skipped)})" if skipped else ""
        raise DocumentFetchError(f"{repo} at {commit}: no tracked regular file matches {patterns}{left}")
    chunks: list[str] = []
    for _, blob in files:
        try:
            text = _git(["cat-file", "blob", blob], repository, binary=True).decode("utf-8", errors="replace")
        except _GitFailed as exc:
            raise DocumentFetchError(str(exc), public=f"{repo} at {commit}: a file cannot be read") from None
        chunks.extend(chunk_markdown(text, tokenizer, max_tokens))
    return Documents(chunks, [path for path, _ in files], skipped)
