"""What the pages show, computed from the store's rows: states, blockers in words, groups, the age plot.

Pure functions of rows and the current time, so a page is as fast as one SQLite read and the
tests can check every word without a browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from bot.dashboard.store import PullRow
from bot.review.effects import CHANGES_REQUESTED_LABEL as CHANGES_REQUESTED
from bot.review.effects import NEEDS_TRIAGE, Wait
from checks.config import NeedsRebaseConfig, StaleConfig

DAY = 86400.0
FLAG_LABELS = {"pii-suspected": "PII", "possible-duplicate": "duplicate", "topic-review": "topic",
               "llm-text-suspected": "LLM text", "model-already-knows": "model already knows"}
NEEDS_REBASE = NeedsRebaseConfig().label  # the lifecycle's default label names
STALE = StaleConfig().label
AGE_BUCKETS = ((1, "< 1 day"), (3, "1-3 days"), (7, "3-7 days"), (14, "1-2 weeks"), (30, "2-4 weeks"),
               (90, "1-3 months"), (None, "> 3 months"))


class PrState(StrEnum):
    """Exactly one per open PR, saying who acts next (in the order a PR's problems are looked at)."""

    CHECKS_FAILING = "checks failing"
    NEEDS_REBASE = "needs rebase"
    CHANGES_REQUESTED = "changes requested"
    DRAFT = "draft"
    STALE = "stale"
    ON_HOLD = "on hold"
    TRIAGE_NEEDED = "triage needed"
    WAITING_LGTMS = "waiting on LGTMs"
    WAITING_APPROVE = "waiting on /approve"
    READY = "ready to merge"


# Who acts next in each state.
NEXT = {PrState.CHECKS_FAILING: "the author", PrState.NEEDS_REBASE: "the author",
        PrState.CHANGES_REQUESTED: "the author", PrState.DRAFT: "the author", PrState.STALE: "the author",
        PrState.ON_HOLD: "who put it on hold", PrState.TRIAGE_NEEDED: "a triager",
        PrState.WAITING_LGTMS: "the maintainers", PrState.WAITING_APPROVE: "an approver",
        PrState.READY: "the bot (it merges)"}


@dataclass(frozen=True, slots=True)
class PrView:
    row: PullRow
    state: PrState
    blockers: tuple[str, ...]
    flags: tuple[str, ...]
    age_days: float
    idle_days: float
    waiting_days: float

    @property
    def css(self) -> str:
        return "s-" + self.state.value.replace(" ", "-").replace("/", "")

    @property
    def state_text(self) -> str:
        review = self.row.review
        if self.state is PrState.WAITING_LGTMS and review:
            return f"{self.state} {len(review['lgtms'])}/{review['required']}"
        if self.state is PrState.ON_HOLD and review:
            return f"{self.state} by {', '.join(review['holds'])}"
        return str(self.state)

    @property
    def next_actor(self) -> str:
        return NEXT[self.state]

    @property
    def checks_url(self) -> str:
        """The PR's checks on GitHub (the triage check run and its annotations), when its link is known."""
        return f"{self.row.html_url}/checks" if self.row.html_url else ""

    @property
    def why_not_merged(self) -> str:
        """For a ready PR: the gate has nothing left, so why it is still open."""
        if self.state is not PrState.READY:
            return ""
        review = self.row.review or {}
        return (f"approved by {', '.join(review.get('approvals', ()))}, {len(review.get('lgtms', ()))}/"
                f"{review.get('required', 0)} LGTM, triage passed: the bot merges when its review job next runs "
                "(an /approve, a review or a check run starts one); still open after that, GitHub refused the "
                "merge (a conflict or a branch-protection rule), and the PR's review comment says why")


def blockers_of(row: PullRow) -> tuple[str, ...]:
    """Everything between the PR and a merge, in words (the review part from its derived state)."""
    out: list[str] = []
    triage, review = row.triage, row.review
    if review is None:
        out.append("review state not derived yet")
    else:
        lgtm = f"{len(review['lgtms'])}/{review['required']} LGTM"
        if len(review["lgtms"]) < review["required"]:
            out.append(lgtm + (f": {', '.join(review['lgtms'])}" if review["lgtms"] else ""))
        if not review["approvals"]:
            out.append("no /approve yet")
        if review["holds"]:
            out.append(f"on hold by {', '.join(review['holds'])}")
    if CHANGES_REQUESTED in row.labels:
        out.append("changes requested")
    if NEEDS_REBASE in row.labels:
        out.append("needs a rebase")
    if triage is None:
        out.append("triage not finished")
    elif triage["conclusion"] == "failure":
        errors = triage["errors"]
        out.append(f"triage failed: {errors} error{'s' if errors != 1 else ''}" if errors else "triage failed")
    if row.draft:
        out.append("draft")
    return tuple(out)


def state_of(row: PullRow) -> PrState:
    """The one state: what the author must fix first, then what the merge gate waits for (`Plan.waits`,
    the gate's own derivation, recorded by the review job), else ready."""
    review = row.review or {}
    if row.triage is not None and row.triage["conclusion"] == "failure":
        return PrState.CHECKS_FAILING
    if NEEDS_REBASE in row.labels:
        return PrState.NEEDS_REBASE
    if CHANGES_REQUESTED in row.labels:
        return PrState.CHANGES_REQUESTED
    if row.draft:
        return PrState.DRAFT
    if STALE in row.labels:
        return PrState.STALE
    waits = review.get("waits")
    if waits is None or row.triage is None or NEEDS_TRIAGE in row.labels:
        return PrState.ON_HOLD if review.get("holds") else PrState.TRIAGE_NEEDED
    for wait, state in GATE_STATES:
        if wait in waits:
            return state
    return PrState.READY


# The gate's waits (`bot.review.effects.Wait`) in the order they decide the state.
GATE_STATES = ((Wait.HOLD, PrState.ON_HOLD), (Wait.TRIAGE, PrState.TRIAGE_NEEDED),
               (Wait.LGTMS, PrState.WAITING_LGTMS), (Wait.APPROVAL, PrState.WAITING_APPROVE),
               (Wait.CLOSED, PrState.TRIAGE_NEEDED))


def view(row: PullRow, now: float) -> PrView:
    return PrView(row=row, state=state_of(row), blockers=blockers_of(row),
                  flags=tuple(FLAG_LABELS[name] for name in sorted(FLAG_LABELS) if name in row.labels),
                  age_days=(now - row.created_at) / DAY, idle_days=(now - row.activity_at) / DAY,
                  waiting_days=(now - row.waiting_since) / DAY)


@dataclass(frozen=True, slots=True)
class Filters:
    state: str = ""
    label: str = ""
    path: str = ""
    author: str = ""
    reviewer: str = ""  # "waiting on me" (`waiting_on`)
    number: str = ""  # one PR by its number

    def keep(self, pr: PrView) -> bool:
        return ((not self.state or str(pr.state) == self.state)
                and (not self.label or self.label in pr.row.labels)
                and (not self.path or any(leaf.startswith(self.path) for leaf in pr.row.leaves))
                and (not self.author or pr.row.author.lower() == self.author.lower())
                and (not self.reviewer or waiting_on(pr, self.reviewer))
                and (not self.number or str(pr.row.number) == self.number.lstrip("#")))

    def query(self, **changes: str) -> str:
        """This filter as a query string, with `changes` over it (links keep the filters they were made under)."""
        values = {k: getattr(self, k) for k in FILTER_KEYS} | changes
        return urlencode({k: v for k, v in values.items() if v})


FILTER_KEYS = ("state", "label", "path", "author", "reviewer", "number")


def waiting_on(pr: PrView, login: str) -> bool:
    """Whether the PR waits on `login`: a requested reviewer without an LGTM on the head, while it is not the
    author's turn (a failing check, a rebase, requested changes come first)."""
    login = login.lower()
    given = {user.lower() for user in (pr.row.review or {}).get("lgtms", ())}
    return (login in {r.lower() for r in pr.row.requested} and login not in given
            and pr.next_actor != NEXT[PrState.CHECKS_FAILING])


# Sortable columns: the key of each, ascending.
SORTS: dict[str, Callable[[PrView], Any]] = {
    "number": lambda v: v.row.number,
    "state": lambda v: list(PrState).index(v.state),
    "author": lambda v: v.row.author.lower(),
    "waiting": lambda v: -v.waiting_days,
    "age": lambda v: -v.age_days,
    "activity": lambda v: -v.idle_days,
    "title": lambda v: v.row.title.lower(),
}
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Page:
    prs: list[PrView]
    number: int  # 1-based
    pages: int
    matched: int  # PRs that passed the filters, on every page


def pull_requests(prs: Iterable[PrView], filters: Filters, sort: str = "waiting", descending: bool = False,
                  page: int = 1) -> Page:
    """Open PRs that pass the filters, sorted by a column (longest waiting first by default), one page of 50."""
    key = SORTS.get(sort, SORTS["waiting"])
    kept = sorted((v for v in prs if filters.keep(v)), key=lambda v: (v.row.repo, v.row.number))  # ties: stable
    kept.sort(key=key, reverse=descending)
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    number = min(max(1, page), pages)
    return Page(kept[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], number, pages, len(kept))


@dataclass(frozen=True, slots=True)
class LeafPair:
    """Two open PRs' leaves the duplicate check matched, and on what: paired examples, or the whole leaves."""

    a: PullRow
    leaf_a: str
    b: PullRow
    leaf_b: str
    score: float
    examples: tuple[tuple[str, str], ...]  # (a's example, b's example) YAML paths


@dataclass(frozen=True, slots=True)
class SimilarGroup:
    prs: tuple[PullRow, ...]
    pairs: tuple[LeafPair, ...]


Node = tuple[str, int, str]  # (repo, PR number, leaf)


def leaf_pairs(rows: Iterable[PullRow]) -> list[LeafPair]:
    """Every matched pair of open PRs' leaves once (seen from either PR: the closer score is kept)."""
    by_key = {(r.repo, r.number): r for r in rows}
    pairs: dict[tuple[Node, Node], LeafPair] = {}
    for row in by_key.values():
        for m in row.similar:
            other = by_key.get((row.repo, m.pr))
            if other is None or other.number == row.number:
                continue
            here, there = (row.repo, row.number, m.leaf), (row.repo, m.pr, m.matched_leaf)
            pair = LeafPair(row, m.leaf, other, m.matched_leaf, m.score, m.examples) if here < there else \
                LeafPair(other, m.matched_leaf, row, m.leaf, m.score, tuple((b, a) for a, b in m.examples))
            key = (min(here, there), max(here, there))
            if key not in pairs or pair.score > pairs[key].score:
                pairs[key] = pair
    return [pairs[k] for k in sorted(pairs)]


def similar_groups(rows: Iterable[PullRow]) -> list[SimilarGroup]:
    """Open PRs whose leaves the duplicate check matched, grouped by leaf: two PRs share a group only
    through leaves that matched each other, never because a third PR touches many leaves. Biggest first."""
    pairs = leaf_pairs(rows)
    parent: dict[Node, Node] = {}

    def root(k: Node) -> Node:
        parent.setdefault(k, k)
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for p in pairs:
        parent[root((p.a.repo, p.a.number, p.leaf_a))] = root((p.b.repo, p.b.number, p.leaf_b))
    grouped: dict[Node, list[LeafPair]] = {}
    for p in pairs:
        grouped.setdefault(root((p.a.repo, p.a.number, p.leaf_a)), []).append(p)
    found = []
    for members in grouped.values():
        prs = {(r.repo, r.number): r for p in members for r in (p.a, p.b)}
        found.append(SimilarGroup(tuple(prs[k] for k in sorted(prs)), tuple(members)))
    return sorted(found, key=lambda g: (-len(g.prs), g.prs[0].repo, g.prs[0].number))


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    x: int
    y: int
    height: int


def age_plot(prs: Iterable[PrView], width: int = 560, height: int = 160) -> list[Bar]:
    """Bars of open PRs by age, laid out for an inline SVG (rendered server-side, no script)."""
    counts = [0] * len(AGE_BUCKETS)
    for pr in prs:
        for i, (bound, _) in enumerate(AGE_BUCKETS):
            if bound is None or pr.age_days < bound:
                counts[i] += 1
                break
    top = max(counts) or 1
    step = width // len(AGE_BUCKETS)
    bars = []
    for i, ((_, label), count) in enumerate(zip(AGE_BUCKETS, counts, strict=True)):
        h = round((height - 20) * count / top)
        bars.append(Bar(label, count, i * step + 4, height - h, h))
    return bars


def days(value: float) -> str:
    """A duration in days for people: "3 h", "5 d", "7 w"."""
    if value < 1:
        return f"{max(0, round(value * 24))} h"
    if value < 21:
        return f"{round(value)} d"
    return f"{round(value / 7)} w"
