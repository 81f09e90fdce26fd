"""`taxonomist bot dashboard-demo`: the dashboard over a seeded local world, with no GitHub.

The world: open pull requests made from the project's samples (and, when `TAXONOMIST_CORPUS`
points at the real-world corpus, from real upstream PRs), each triaged by the real checks (the
structural group, each file against its own schema version: no model to load) and given a review
timeline (LGTMs, approvals, holds from made-up maintainers) that the real review workflow derives.
They reach the store through the same recording functions as webhooks and jobs do; the queue,
workers and builds pages get a few jobs, a worker and two builds. Then the pages are served on
loopback.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.comment.labels import label_plan, wanted_labels
from bot.dashboard import record
from bot.dashboard.store import BuildRow, SimilarMatch, Store
from bot.forges.forge import LabelChange, PullRequest
from bot.review.effects import Plan, plan
from bot.review.state import Comment, Push, ReviewState, Timeline, derive
from bot.service.router import Job
from bot.triage.render import render_check_run
from bot.triage.run import TriageOutcome
from checks.config import ChecksConfig, ReviewConfig
from checks.runner import Checker
from checks.samples import SAMPLES_DIR
from checks.sources import MemorySource

REPO = "demo-org/taxonomy"
MAINTAINERS = ("maria-maintainer", "moses-maintainer", "mei-maintainer")
APPROVERS = ("ada-approver",)
REVIEW = ReviewConfig(maintainers=MAINTAINERS, approvers=APPROVERS, triagers=("tom-triager", "tia-triager"))
DAY = 86400.0
JOB_RETRIES = 5  # as `Settings.job_retries`
CHECKS = ChecksConfig(schema_version="own")  # each file against its own version, as upstream's older PRs were


@dataclass(frozen=True, slots=True)
class Contribution:
    """One open PR of the demo world: its files and who sent it."""

    number: int
    title: str
    author: str
    files: dict[str, bytes]


def sample_contributions() -> list[Contribution]:
    """The sample contribution (it has problems) and clean copies of the sample skill under new names."""
    contribution = SAMPLES_DIR / "contribution"
    files = {p.relative_to(contribution).as_posix(): p.read_bytes() for p in contribution.rglob("*") if p.is_file()}
    out = [Contribution(1, "Add antonyms skill", "sam-contributor", files)]
    base = SAMPLES_DIR / "taxonomy" / "compositional_skills" / "linguistics" / "synonyms"
    for i, leaf in enumerate(("homophones", "palindromes", "rhymes", "anagrams", "idioms"), start=2):
        out.append(Contribution(i, f"Add {leaf} skill", f"contributor-{i}",
                                {f"compositional_skills/linguistics/{leaf}/{p.name}": p.read_bytes()
                                 for p in base.iterdir()}))
    return out


def corpus_contributions(corpus: Path, limit: int, first: int = 100) -> list[Contribution]:
    """Real upstream PRs that changed qna files (`taxonomy-prs/index.tsv`), as open contributions."""
    index = corpus / "taxonomy-prs" / "index.tsv"
    out: list[Contribution] = []
    with index.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            paths = [p for p in row["qna_files"].split(",") if p]
            if not paths:
                continue
            root = corpus / "taxonomy-prs" / row["pr"]
            files: dict[str, bytes] = {}
            for path in paths:
                for name in (path, str(Path(path).parent / "attribution.txt")):
                    if (root / name).is_file():
                        files[name] = (root / name).read_bytes()
            if files:
                leaf = Path(paths[0]).parent.as_posix()
                out.append(Contribution(first + len(out), f"upstream #{row['pr']}: {leaf}",
                                        f"upstream-{int(row['pr']) % 17}", files))
            if len(out) >= limit:
                break
    return out


def pr_payload(c: Contribution, opened: datetime, labels: list[str], head_sha: str,
               reviewers: tuple[str, ...] = ()) -> dict[str, Any]:
    """A `pull_request` webhook payload, shaped as GitHub sends one."""
    return {"action": "opened", "number": c.number, "sender": {"login": c.author, "type": "User"},
            "repository": {"full_name": REPO, "private": False},
            "pull_request": {"number": c.number, "title": c.title, "state": "open", "draft": False,
                             "html_url": f"https://github.example/{REPO}/pull/{c.number}",
                             "user": {"login": c.author}, "created_at": opened.isoformat(),
                             "labels": [{"name": n} for n in labels], "head": {"sha": head_sha},
                             "base": {"ref": "main"},
                             "requested_reviewers": [{"login": r} for r in reviewers]}}


def triage_outcome(c: Contribution, head_sha: str) -> TriageOutcome:
    """The real checks (structural group) on the contribution's qna files, as triage would publish them."""
    sources = []
    for path, data in sorted(c.files.items()):
        if path.endswith(("qna.yaml", "qna.yml")):
            attribution = c.files.get(str(Path(path).parent / "attribution.txt"))
            siblings = (("attribution.txt", attribution),) if attribution is not None else ()
            sources.append(MemorySource(source=path, data=data, siblings=siblings))
    report = Checker(CHECKS, only=("structural",)).check(sources)
    add, remove = label_plan(set(), wanted_labels(report, list(c.files)), new_contribution=True)
    pr = PullRequest(number=c.number, head_sha=head_sha, base_ref="main", author=c.author, title=c.title)
    return TriageOutcome(pr, report, render_check_run(report), "", LabelChange(add, remove))


def review_timeline(c: Contribution, head_sha: str, opened: datetime, rng: random.Random) -> Timeline:
    """A made-up but plausible review: some LGTMs, sometimes an approval or a hold."""
    comments = []
    for i, who in enumerate(rng.sample(MAINTAINERS, rng.choice((0, 0, 1, 1, 2, 3)))):
        comments.append(Comment(c.number * 100 + i, who, "/lgtm", opened + timedelta(hours=2 + i)))
    if rng.random() < 0.25:
        comments.append(Comment(c.number * 100 + 10, APPROVERS[0], "/approve", opened + timedelta(hours=9)))
    if rng.random() < 0.12:
        comments.append(Comment(c.number * 100 + 11, MAINTAINERS[0], "/hold", opened + timedelta(hours=10)))
    return Timeline(author=c.author, head_sha=head_sha, pushes=(Push(head_sha, opened + timedelta(minutes=1)),),
                    comments=tuple(comments))


@dataclass(frozen=True, slots=True)
class Derived:
    """What the real workflow derived for one PR of the world: the review state and the merge gate's plan."""

    state: ReviewState
    plan: Plan
    triage: str | None  # the triage check's conclusion the gate saw


def seed(store: Store, contributions: list[Contribution], now: float, seed_value: int = 15) -> dict[int, Derived]:
    """Record the world in the store, through the functions webhooks and jobs use; returns what was derived."""
    rng = random.Random(seed_value)
    derived: dict[int, Derived] = {}
    for c in contributions:
        head_sha = f"{c.number:040x}"
        age = rng.uniform(0.1, 120)
        opened = datetime.fromtimestamp(now - age * DAY, UTC)
        outcome = triage_outcome(c, head_sha)
        flags = ["possible-duplicate"] if rng.random() < 0.1 else []
        flags += ["needs-rebase"] if rng.random() < 0.08 else []
        flags += ["stale"] if age > 45 and rng.random() < 0.3 else []  # the lifecycle's labels, default names
        reviewers = tuple(rng.sample(MAINTAINERS, rng.choice((0, 1, 1, 2))))
        payload = pr_payload(c, opened, [*outcome.labels.added, *flags], head_sha, reviewers)
        at = opened.timestamp()
        jobs = [Job("triage", "pull_request", "opened", f"demo-{c.number}", REPO,
                    None, c.number, head_sha, {}, at, True)]
        record.on_delivery(store, "pull_request", f"demo-{c.number}", payload, jobs, at)
        record.on_triage(store, REPO, outcome)
        state = derive(review_timeline(c, head_sha, opened, rng), REVIEW, lambda user, team: False)
        conclusion = outcome.check_run.conclusion
        derived[c.number] = Derived(state, plan(state, REVIEW, labels=frozenset(), triage=conclusion), conclusion)
        record.on_review(store, REPO, c.number, state, derived[c.number].plan)
        row = store.pull(REPO, c.number)
        if row is not None and state.lgtms:  # a triager looked at it and took `triage-needed` off
            store.set_labels(REPO, c.number, [n for n in row.labels if n != "triage-needed"])
        store.job_state(jobs[0].key, "done", at + 30, worker="demo-host:1/worker-1")
    _link_same_leaves(store, contributions)
    store.heartbeat("demo-host:1/worker-1", None, now)
    failed = f"triage:{REPO}#{contributions[-1].number}"
    for attempt in range(1 + JOB_RETRIES):  # each run raised, as the worker records it; then the retries were spent
        store.job_state(failed, "retrying", now - 900 + attempt * 50, reason="GithubException: 502 Bad Gateway",
                        attempt=True)
    store.job_state(failed, "failed", now - 600, reason="GithubException: 502 Bad Gateway (retries spent)")
    store.record_build(BuildRow("a1b2c3d4e5f6@1", now - 8 * DAY, "published", "passed",
                                ("compositional_skills/linguistics/synonyms",), (), "https://example.org/builds/1"))
    store.record_build(BuildRow("b2c3d4e5f6a7@2", now - DAY, "rejected", "rejected",
                                ("compositional_skills/linguistics/synonyms",), ("knowledge/science/astronomy",), ""))
    return derived


def _link_same_leaves(store: Store, contributions: list[Contribution]) -> None:
    """Open PRs adding the same leaf: the demo's stand-in for the duplicate index (no model loaded), as a
    whole-leaf match of score 1 between the two PRs' copies of that leaf."""
    by_leaf: dict[str, list[int]] = {}
    for c in contributions:
        for leaf in sorted({str(Path(path).parent) for path in c.files}):
            by_leaf.setdefault(leaf, []).append(c.number)
    for c in contributions:
        row = store.pull(REPO, c.number)
        if row is None or row.triage is None:
            continue
        matches = [SimilarMatch(leaf, n, leaf, 1.0) for leaf in sorted({str(Path(p).parent) for p in c.files})
                   for n in by_leaf[leaf] if n != c.number]
        store.set_triage(REPO, c.number, row.head_sha, row.triage, list(row.leaves), matches)


def build_world(data_dir: Path, corpus: Path | None, prs: int, now: float) -> Store:
    store = Store(data_dir / "dashboard.sqlite3")
    contributions = sample_contributions()
    if corpus is not None and (corpus / "taxonomy-prs" / "index.tsv").is_file():
        contributions += corpus_contributions(corpus, max(0, prs - len(contributions)))
    seed(store, contributions, now)
    return store
