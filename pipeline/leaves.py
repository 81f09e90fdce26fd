"""The leaves a build uses: every qna.yaml of a taxonomy checkout at a ref that is valid under its own schema version.

The build takes merged content as it was merged: a leaf is used when upstream's own validity rules
hold for it (YAML, file name, yamllint for v2+, the schema of its own `version:`, attribution for
v2+). The rules for new PRs (latest version, five examples) are triage rules, not build filters: a
leaf with fewer seeds than a new PR needs is used and listed as `thin`. A leaf is skipped only for
a reason that makes it unusable (unparseable, invalid or refused under its own version, a symbolic
link or submodule where a regular file must be), and the reason is in the report. The checker's own
bounded parse is used (`Checker.check_parsed`), never a second, unbounded read.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from checks.config import CONFIG_PATH, load_config
from checks.content.texts import examples
from checks.discovery import expand
from checks.findings import Finding, Severity
from checks.paths import leaf_of, taxonomy_path
from checks.runner import Checker
from checks.sources import DiskSource
from pipeline.git import git_answer, run_git

_PR_NUMBER = re.compile(r"(?:Merge pull request #|\(#|^#)(\d+)")
# Upstream's validity under a file's own version; a failure makes the leaf unusable.
VALIDITY_CHECKS = ("yaml-syntax", "file-name", "yamllint", "schema", "attribution")
THIN_CHECK = "min-examples"  # a triage rule: its errors mark a leaf thin, never skip it
LEAF_FILES = ("qna.yaml", "attribution.txt")  # must be regular files for the build to read the leaf
GIT_MODES = {"120000": "a symbolic link", "160000": "a submodule"}
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
    thin: str | None = None   # why the leaf is thin (fewer seeds than a new PR needs), None when it is not


@dataclass(slots=True)
class Taxonomy:
    """The leaves read, and where from: `source` is `ref` (asked for), `default-branch`, `worktree`
    (a git checkout's files on purpose) or `folder` (not a git repository: the files as they are)."""

    source: str
    ref: str | None
    commit: str | None
    used: list[Leaf]
    skipped: list[dict[str, Any]]
    prs: list[int]  # named in commit subjects: a hint for the model card, never a credit (see `commits`)
    commits: dict[str, list[str]] = field(default_factory=dict)  # commit -> the used leaves it changed

    @staticmethod
    def thin_of(leaves: list[Leaf]) -> list[dict[str, str]]:
        """The thin leaves among `leaves`, each with why (used all the same)."""
        return [{"leaf": leaf.path, "reason": leaf.thin} for leaf in leaves if leaf.thin]


def _git(args: list[str], cwd: Path, *, binary: bool = False) -> Any:
    return run_git(args, cwd, TaxonomyError, binary=binary)


def is_git_repo(path: Path) -> bool:
    return git_answer(["rev-parse", "--show-toplevel"], path) == str(path.resolve())


def _resolves(repo: Path, ref: str) -> bool:
    return git_answer(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo) is not None


def default_ref(repo: Path) -> str:
    """The default branch: the remote's HEAD (origin first), else `main` or `master`, else HEAD."""
    remotes = _git(["remote"], repo).split()
    for remote in sorted(remotes, key=lambda name: name != "origin"):
        head = git_answer(["symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD"], repo)
        if head and _resolves(repo, head):
            return head
    for branch in DEFAULT_BRANCHES:
        if _resolves(repo, f"refs/heads/{branch}"):
            return branch
    if not _resolves(repo, "HEAD"):
        raise TaxonomyError(f"{repo}: the git repository has no commit to build (pass --ref {WORKTREE} "
                            "to read its files as they are)")
    return "HEAD"


def special_entries(repo: Path, commit: str) -> dict[str, str]:
    """Tracked paths at `commit` that are not regular files: symbolic links and submodules, with what they are."""
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", commit], repo)
    out: dict[str, str] = {}
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        mode = meta.split(" ", 1)[0]
        if mode in GIT_MODES:
            out[path] = GIT_MODES[mode]
    return out


def _regular_files_only(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """Extract folders and regular files (the `data` filter's checks); links and the rest are left out."""
    if not (member.isfile() or member.isdir()):
        return None
    return tarfile.data_filter(member, dest)


def export_ref(repo: Path, ref: str, dest: Path) -> tuple[str, dict[str, str]]:
    """Write the regular files of `ref` into `dest` (no checkout of the user's repository); returns its
    commit and the tracked paths left out because they are links or submodules (`special_entries`)."""
    commit = _git(["rev-parse", "--verify", f"{ref}^{{commit}}"], repo).strip()
    archive = _git(["archive", "--format=tar", commit], repo, binary=True)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter=_regular_files_only)
    return commit, special_entries(repo, commit)


def merged_prs(repo: Path, ref: str, leaf_dirs: list[str]) -> list[int]:
    """PR numbers named by merge commits or squash subjects (`(#123)`) in the leaves' history."""
    if not leaf_dirs:
        return []
    log = _git(["log", "--format=%s", ref, "--", *leaf_dirs], repo)
    return sorted({int(m.group(1)) for line in log.splitlines() for m in [_PR_NUMBER.search(line)] if m})


def leaf_commits(repo: Path, ref: str, leaf_dirs: list[str]) -> dict[str, list[str]]:
    """Each commit in the leaves' history at `ref`, with the leaves it changed. Who gets the credit for a
    commit is GitHub's to say (its pull request for the commit, `bot.announce`), never a subject's `(#N)`."""
    if not leaf_dirs:
        return {}
    log = _git(["log", "--format=%x00%H", "--name-only", ref, "--", *leaf_dirs], repo)
    out: dict[str, list[str]] = {}
    for entry in filter(None, log.split("\0")):
        sha, *paths = entry.split()
        out[sha] = sorted({leaf for leaf in leaf_dirs for path in paths if path.startswith(leaf.rstrip("/") + "/")})
    return out


def seeds_of(data: dict[str, Any]) -> list[Seed]:
    """Seed pairs through the checks' one reader (`checks.content.texts.examples`): knowledge pairs carry
    their example's context; a pair with an empty question or answer teaches nothing and is left out."""
    out: list[Seed] = []
    for example in examples(data):
        question, answer, context = example.question.strip(), example.answer.strip(), example.prompt_context.strip()
        if question and answer:
            out.append(Seed(question, answer, context or None))
    return out


def heldout_count(seeds: int, *, thin: bool, per_leaf: int, full_from: int) -> int:
    """Seeds held out for the evaluation: none for a thin leaf (its evaluation rows come from generated
    samples), `per_leaf` from `full_from` seeds on, otherwise one."""
    if thin:
        return 0
    return per_leaf if seeds >= full_from else min(1, per_leaf)


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


def make_leaf(leaf_path: str, kind: str, data: dict[str, Any], heldout: int, seed: int, *,
              thin: str | None = None, full_from: int = 7) -> Leaf:
    seeds = seeds_of(data)
    is_knowledge = kind == "knowledge"
    flow = "knowledge" if is_knowledge else ("grounded" if any(s.context for s in seeds) else "freeform")
    count = heldout_count(len(seeds), thin=thin is not None, per_leaf=heldout, full_from=full_from)
    kept, held = split_heldout(leaf_path, seeds, count, seed)
    task = str(data.get("task_description") or data.get("document_outline") or leaf_path).strip()
    document = data.get("document") if is_knowledge and isinstance(data.get("document"), dict) else None
    return Leaf(leaf_path, flow, task, content_hash(data), kept, held, document, thin)


def _why_unusable(errors: list[Finding], version: int | None) -> str:
    first = errors[0]
    where = f" (line {first.line})" if first.line else ""
    under = f"its own schema version {version}" if version is not None else "its own schema version"
    return f"not valid under {under}: {first.check}: {first.message}{where}"


def _link_reasons(root: Path, special: dict[str, str]) -> dict[str, str]:
    """Leaf path -> why it cannot be read: its qna.yaml or attribution.txt is a link or a submodule.

    `special` comes from git for an exported ref; files on disk are looked at themselves (a link is
    never followed, whether or not it stays inside the checkout)."""
    found = dict(special)
    for name in LEAF_FILES:
        for path in root.rglob(name):
            if path.is_symlink() or path.is_dir():
                found.setdefault(path.relative_to(root).as_posix(),
                                 "a symbolic link" if path.is_symlink() else "a folder")
    out: dict[str, str] = {}
    for rel, what in sorted(found.items()):
        name, tax = PurePosixPath(rel).name, taxonomy_path(rel)
        if name in LEAF_FILES and tax is not None and tax.parts[0] != "foundational_skills":
            out.setdefault(leaf_of(tax), f"{name} is {what}; the build reads only regular files")
    return out


def collect(taxonomy_dir: Path, *, schema_version: str | int | None = None, heldout: int = 2, seed: int = 0,
            heldout_full_from: int = 7, special: dict[str, str] | None = None
            ) -> tuple[list[Leaf], list[dict[str, Any]]]:
    """Used leaves and skipped ones (each with its reason and error findings), in path order.

    `schema_version` None means each file's own version (`own`), the rule merged content was reviewed under."""
    config = load_config(taxonomy_dir / CONFIG_PATH)
    checker = Checker(config, only=(*VALIDITY_CHECKS, THIN_CHECK),
                      schema_version="own" if schema_version is None else schema_version)
    links = _link_reasons(taxonomy_dir, special or {})
    skipped: list[dict[str, Any]] = [{"leaf": leaf, "reason": reason, "findings": []}
                                     for leaf, reason in links.items()]
    used: list[Leaf] = []
    for file in expand([str(taxonomy_dir)]):
        tax = taxonomy_path(file)
        if tax is None or leaf_of(tax) in links:  # foundational_skills/ is never walked
            continue
        checked = checker.check_parsed(DiskSource(file))
        report = checked.report
        errors = [f for f in report.findings if f.severity == Severity.ERROR and f.check != THIN_CHECK]
        if errors or checked.qna is None:
            reason = _why_unusable(errors, report.schema_version) if errors else "empty file"
            skipped.append({"leaf": leaf_of(tax), "reason": reason, "findings": [f.to_dict() for f in errors]})
            continue
        thin = [f.message for f in report.findings if f.check == THIN_CHECK and f.severity == Severity.ERROR]
        used.append(make_leaf(leaf_of(tax), report.kind, checked.qna.data, heldout, seed,
                              thin="; ".join(thin) if thin else None, full_from=heldout_full_from))
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
                  schema_version: str | int | None = None, heldout: int = 2, seed: int = 0,
                  heldout_full_from: int = 7) -> Taxonomy:
    """The taxonomy at `ref` (exported under `work_dir`; default: a git checkout's default branch), or
    the files as they are for a plain folder or `ref=WORKTREE`."""
    taxonomy_dir = taxonomy_dir.resolve()
    if not taxonomy_dir.is_dir():
        raise TaxonomyError(f"{taxonomy_dir}: no such taxonomy folder")
    source, export = _where(taxonomy_dir, ref)
    root, commit, special = taxonomy_dir, None, {}
    if export is not None:
        root = work_dir / "taxonomy"
        if root.exists():
            shutil.rmtree(root)
        commit, special = export_ref(taxonomy_dir, export, root)
    elif source == "worktree" and _resolves(taxonomy_dir, "HEAD"):
        commit = _git(["rev-parse", "HEAD"], taxonomy_dir).strip()  # the files may differ from it
    used, skipped = collect(root, schema_version=schema_version, heldout=heldout, seed=seed,
                            heldout_full_from=heldout_full_from, special=special)
    paths = [leaf.path for leaf in used]
    prs = merged_prs(taxonomy_dir, commit, paths) if commit else []
    commits = leaf_commits(taxonomy_dir, commit, paths) if commit else {}
    return Taxonomy(source=source, ref=export or (WORKTREE if source == "worktree" else None), commit=commit,
                    used=used, skipped=skipped, prs=prs, commits=commits)
