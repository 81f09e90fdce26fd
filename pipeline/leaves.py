"""The leaves a build uses: every qna.yaml of a taxonomy checkout at a ref, through the structural checks.

Validation is the `checks` package's: a leaf with an error finding is skipped and listed with its
findings in the report, never silently dropped.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from checks.config import CONFIG_PATH, load_config
from checks.discovery import expand
from checks.findings import Severity
from checks.paths import leaf_of, taxonomy_path
from checks.runner import Checker
from checks.sources import DiskSource

_PR_NUMBER = re.compile(r"(?:Merge pull request #|\(#|^#)(\d+)")
WORKTREE = "WORKTREE"  # `--ref WORKTREE`: read a git checkout's files as they are on disk, on purpose
DEFAULT_BRANCHES = ("main", "master")


class TaxonomyError(RuntimeError):
    """The taxonomy folder or ref cannot be read: exit status 2."""


@dataclass(frozen=True, slots=True)
class Seed:
    """One seed question and answer, with its context for grounded skills and knowledge."""

    question: str
    answer: str
    context: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"question": self.question, "answer": self.answer}
        if self.context is not None:
            out["context"] = self.context
        return out


@dataclass(slots=True)
class Leaf:
    path: str                 # identity: compositional_skills/.../haiku
    flow: str                 # knowledge | grounded | freeform
    task: str
    content_hash: str         # sha256 of the parsed qna.yaml, canonically serialised (`content_hash`)
    seeds: list[Seed]
    heldout: list[Seed] = field(default_factory=list)
    document: dict[str, Any] | None = None


@dataclass(slots=True)
class Taxonomy:
    """The leaves read, and where from: `source` is `ref` (asked for), `default-branch`, `worktree`
    (a git checkout's files on purpose) or `folder` (not a git repository: the files as they are)."""

    source: str
    ref: str | None
    commit: str | None
    used: list[Leaf]
    skipped: list[dict[str, Any]]
    prs: list[int]


def _git(args: list[str], cwd: Path, *, binary: bool = False) -> Any:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True, text=not binary)
    except FileNotFoundError:
        raise TaxonomyError("git is needed on PATH") from None
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr
        raise TaxonomyError(f"{cwd}: git {' '.join(args)}: {err.strip() or 'failed'}") from None
    return done.stdout


def is_git_repo(path: Path) -> bool:
    return subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path, capture_output=True,
                          text=True).stdout.strip() == str(path.resolve())


def _resolves(repo: Path, ref: str) -> bool:
    return subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=repo,
                          capture_output=True).returncode == 0


def default_ref(repo: Path) -> str:
    """The default branch: the remote's HEAD (origin first), else `main` or `master`, else HEAD."""
    remotes = _git(["remote"], repo).split()
    for remote in sorted(remotes, key=lambda name: name != "origin"):
        head = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD"],
                              cwd=repo, capture_output=True, text=True).stdout.strip()
        if head and _resolves(repo, head):
            return head
    for branch in DEFAULT_BRANCHES:
        if _resolves(repo, f"refs/heads/{branch}"):
            return branch
    if not _resolves(repo, "HEAD"):
        raise TaxonomyError(f"{repo}: the git repository has no commit to build (pass --ref {WORKTREE} "
                            "to read its files as they are)")
    return "HEAD"


def export_ref(repo: Path, ref: str, dest: Path) -> str:
    """Write the tree of `ref` into `dest` (no checkout of the user's repository); returns its commit."""
    commit = _git(["rev-parse", "--verify", f"{ref}^{{commit}}"], repo).strip()
    archive = _git(["archive", "--format=tar", commit], repo, binary=True)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return commit


def merged_prs(repo: Path, ref: str, leaf_dirs: list[str]) -> list[int]:
    """PR numbers named by merge commits or squash subjects (`(#123)`) in the leaves' history."""
    if not leaf_dirs:
        return []
    log = _git(["log", "--format=%s", ref, "--", *leaf_dirs], repo)
    return sorted({int(m.group(1)) for line in log.splitlines() for m in [_PR_NUMBER.search(line)] if m})


def _seeds(data: dict[str, Any]) -> list[Seed]:
    """Seed pairs, flattened: knowledge (v3) pairs carry their example's context."""
    out: list[Seed] = []
    for example in data.get("seed_examples") or []:
        if not isinstance(example, dict):
            continue
        context = example.get("context")
        context = str(context).strip() if context else None
        pairs = example.get("questions_and_answers")
        items = pairs if isinstance(pairs, list) else [example]
        for item in items:
            if isinstance(item, dict) and item.get("question") and item.get("answer"):
                out.append(Seed(str(item["question"]).strip(), str(item["answer"]).strip(), context))
    return out


def split_heldout(leaf_path: str, seeds: list[Seed], count: int, seed: int) -> tuple[list[Seed], list[Seed]]:
    """(kept, heldout): a fixed pseudo-random choice per leaf; at least one seed is always kept."""
    count = min(count, max(0, len(seeds) - 1))
    order = list(range(len(seeds)))
    random.Random(f"{seed}:{leaf_path}").shuffle(order)
    held = set(order[:count])
    return [s for i, s in enumerate(seeds) if i not in held], [s for i, s in enumerate(seeds) if i in held]


def _canonical(value: Any) -> Any:
    """Plain JSON values, strings stripped as generation strips them; keys as strings."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)  # dates and other YAML scalars


def content_hash(data: Any) -> str:
    """sha256 of the parsed content, canonically serialised: comments, quoting, indentation and key
    order do not change it (a cosmetic edit reuses the cache); any change to a value does."""
    text = json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def make_leaf(leaf_path: str, kind: str, data: dict[str, Any], heldout: int, seed: int) -> Leaf:
    seeds = _seeds(data)
    is_knowledge = kind == "knowledge"
    flow = "knowledge" if is_knowledge else ("grounded" if any(s.context for s in seeds) else "freeform")
    kept, held = split_heldout(leaf_path, seeds, heldout, seed)
    task = str(data.get("task_description") or data.get("document_outline") or leaf_path).strip()
    document = data.get("document") if is_knowledge and isinstance(data.get("document"), dict) else None
    return Leaf(leaf_path, flow, task, content_hash(data), kept, held, document)


def collect(taxonomy_dir: Path, *, schema_version: str | int | None = None, heldout: int = 1,
            seed: int = 0) -> tuple[list[Leaf], list[dict[str, Any]]]:
    """Used leaves and skipped ones (with their error findings), in path order."""
    config = load_config(taxonomy_dir / CONFIG_PATH)
    checker = Checker(config, only=("structural",), schema_version=schema_version)
    files = [f for f in expand([str(taxonomy_dir)]) if taxonomy_path(f)]  # foundational_skills/ is never walked
    report = checker.check(DiskSource(f) for f in files)
    used: list[Leaf] = []
    skipped: list[dict[str, Any]] = []
    for file_report, file in zip(report.files, files, strict=True):
        leaf_path = leaf_of(taxonomy_path(file))
        errors = [f for f in file_report.findings if f.severity == Severity.ERROR]
        if errors:
            skipped.append({"leaf": leaf_path, "findings": [f.to_dict() for f in errors]})
            continue
        data = yaml.safe_load(Path(file).read_bytes())
        used.append(make_leaf(leaf_path, file_report.kind, data, heldout, seed))
    used.sort(key=lambda leaf: leaf.path)
    skipped.sort(key=lambda s: s["leaf"])
    return used, skipped


def _where(taxonomy_dir: Path, ref: str | None) -> tuple[str, str | None]:
    """(source, ref to export or None): an explicit ref wins; a git checkout defaults to its default branch."""
    git = is_git_repo(taxonomy_dir)
    if ref == WORKTREE:
        return ("worktree" if git else "folder"), None
    if not git:
        if ref is not None:
            raise TaxonomyError(f"{taxonomy_dir}: --ref {ref} needs a git repository")
        return "folder", None
    if ref is not None:
        return "ref", ref
    return "default-branch", default_ref(taxonomy_dir)


def load_taxonomy(taxonomy_dir: Path, work_dir: Path, *, ref: str | None = None,
                  schema_version: str | int | None = None, heldout: int = 1, seed: int = 0) -> Taxonomy:
    """The taxonomy at `ref` (exported under `work_dir`; default: a git checkout's default branch), or
    the files as they are for a plain folder or `ref=WORKTREE`."""
    taxonomy_dir = taxonomy_dir.resolve()
    if not taxonomy_dir.is_dir():
        raise TaxonomyError(f"{taxonomy_dir}: no such taxonomy folder")
    source, export = _where(taxonomy_dir, ref)
    root, commit = taxonomy_dir, None
    if export is not None:
        root = work_dir / "taxonomy"
        if root.exists():
            shutil.rmtree(root)
        commit = export_ref(taxonomy_dir, export, root)
    elif source == "worktree" and _resolves(taxonomy_dir, "HEAD"):
        commit = _git(["rev-parse", "HEAD"], taxonomy_dir).strip()  # the files may differ from it
    used, skipped = collect(root, schema_version=schema_version, heldout=heldout, seed=seed)
    prs = merged_prs(taxonomy_dir, commit, [leaf.path for leaf in used]) if commit else []
    return Taxonomy(source=source, ref=export or (WORKTREE if source == "worktree" else None), commit=commit,
                    used=used, skipped=skipped, prs=prs)
