"""Keep the store current: from each webhook as it arrives and from each job's outcome.

Nothing here calls GitHub: a delivery's payload already shows the PR (title, author, labels,
head, state), and the jobs hand over what they computed (triage's report, the review's state).
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from bot.dashboard.store import PullRow, SimilarMatch, Store
from bot.forges.forge import PullRequest
from bot.service.router import Job
from bot.triage.indexes import pr_of_origin
from checks.findings import Finding

BOT_SENDER = re.compile(r"\[bot\]$", re.IGNORECASE)
WAITING_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review"})
# Real activity, the only thing that moves the stale clock: a push (or opening the PR), a new comment or review
# by a person. An edit or deletion of an old comment, a label, a title change are not.
ACTIVITY = {"pull_request": WAITING_ACTIONS, "issue_comment": frozenset({"created"}),
            "pull_request_review": frozenset({"submitted"})}


def epoch(stamp: Any, default: float) -> float:
    """GitHub's ISO 8601 time as epoch seconds; `default` when absent or unreadable."""
    if not isinstance(stamp, str):
        return default
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _login(user: Any) -> str:
    return str(user.get("login", "")) if isinstance(user, dict) else ""


def _safe_url(url: Any) -> str:
    """Only http(s) links reach a page (a `javascript:` URL in a payload stays out)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


def is_person(payload: dict[str, Any]) -> bool:
    sender = payload.get("sender") or {}
    return isinstance(sender, dict) and sender.get("type") != "Bot" and not BOT_SENDER.search(_login(sender))


def is_private(payload: dict[str, Any]) -> bool:
    """Whether the delivery's repository is private; one that does not say so counts as private."""
    repository = payload.get("repository")
    return not isinstance(repository, dict) or repository.get("private") is not False


def pull_row(repo: str, pr: dict[str, Any], at: float, action: str | None, by_person: bool,
             private: bool = True) -> PullRow:
    """The store's row for a webhook's `pull_request` object; activity counts only a person's real acts."""
    created = epoch(pr.get("created_at"), at)
    return PullRow(
        repo=repo, number=int(pr["number"]), title=str(pr.get("title") or ""), author=_login(pr.get("user")),
        html_url=_safe_url(pr.get("html_url")), state="open" if pr.get("state") == "open" else "closed",
        draft=bool(pr.get("draft")), created_at=created,
        activity_at=at if by_person and action in ACTIVITY["pull_request"] else created,
        waiting_since=at if action in WAITING_ACTIONS else created,
        head_sha=str((pr.get("head") or {}).get("sha") or ""), base_ref=str((pr.get("base") or {}).get("ref") or ""),
        labels=tuple(sorted(str(lb.get("name")) for lb in pr.get("labels") or () if isinstance(lb, dict))),
        requested=tuple(sorted(_login(u) for u in pr.get("requested_reviewers") or () if _login(u))),
        private=private,
    )


def on_delivery(store: Store, event: str, delivery: str, payload: dict[str, Any], jobs: list[Job],
                at: float) -> None:
    """A webhook accepted: the PR's snapshot, a person's activity, the delivery and its queued jobs."""
    repo = str((payload.get("repository") or {}).get("full_name") or "")
    action = payload.get("action")
    person = is_person(payload)
    number: int | None = None
    if repo:
        store.set_repo_private(repo, is_private(payload))
    if event == "pull_request" and isinstance(payload.get("pull_request"), dict):
        row = pull_row(repo, payload["pull_request"], at, action, person, is_private(payload))
        number = row.number
        store.upsert_pull(row)
    elif event in ("issue_comment", "pull_request_review"):
        target = payload.get("issue") or payload.get("pull_request") or {}
        if isinstance(target, dict) and target.get("number") is not None:
            number = int(target["number"])
            if person and action in ACTIVITY[event]:
                store.touch_pull(repo, number, at)
    store.record_delivery(delivery, event, action, repo or None, number, len(jobs), at)
    for job in jobs:
        store.job_queued(job.key, job.route, job.repo, job.pr, at)


def similar_prs(findings: list[Finding], own: int) -> list[SimilarMatch]:
    """The duplicate check's matches with other open PRs' leaves, one per pair of leaves (the closest score,
    every example paired), from the findings' structured data."""
    pairs: dict[tuple[str, int, str], SimilarMatch] = {}
    for match in (s for f in findings for s in f.similar):
        number = pr_of_origin(match.origin)
        if number is None or number == own:
            continue
        key = (match.leaf, number, match.matched_leaf)
        seen = pairs.get(key)
        examples = tuple(dict.fromkeys((seen.examples if seen else ()) + match.examples))
        pairs[key] = SimilarMatch(match.leaf, number, match.matched_leaf,
                                  max(match.score, seen.score if seen else match.score), examples)
    return list(pairs.values())


def on_triage(store: Store, repo: str, outcome: Any) -> None:
    """Triage's outcome (`bot.triage.run.TriageOutcome`): conclusion, counts, leaves and similar PRs."""
    pr: PullRequest = outcome.pr
    report = outcome.report
    findings = list(report.all_findings()) if report is not None else []
    triage = {"conclusion": outcome.check_run.conclusion,
              "errors": sum(1 for f in findings if str(f.severity) == "error"),
              "warnings": sum(1 for f in findings if str(f.severity) == "warning")}
    leaves = sorted({f.path.rsplit("/", 1)[0] for f in report.files}) if report is not None else []
    now = time.time()  # a PR no webhook showed (reconciliation found it): listed from what triage read of it
    store.upsert_pull(PullRow(repo, pr.number, pr.title, pr.author, "", pr.state, pr.draft, now, now, now, pr.head_sha,
                              pr.base_ref, requested=tuple(pr.requested_reviewers),
                              private=repo not in store.public_repos()), only_new=True)
    store.set_triage(repo, pr.number, pr.head_sha, triage, leaves, similar_prs(findings, pr.number))
    row = store.pull(repo, pr.number)
    if row is not None:
        labels = (set(row.labels) | set(outcome.labels.added)) - set(outcome.labels.removed)
        store.set_labels(repo, pr.number, sorted(labels))


def review_record(state: Any, plan: Any) -> dict[str, Any]:
    """The review workflow's derived state (`ReviewState`) and the merge gate's plan (`Plan`), as stored."""
    return {
        "head_sha": state.head_sha,
        "lgtms": [v.user for v in state.lgtms],
        "required": state.required_lgtms,
        "approvals": [v.user for v in state.approvals],
        "holds": list(state.holds),
        "blockers": list(plan.blockers),
        "waits": [str(w) for w in plan.waits],  # the merge gate's own derivation: the page's state comes from it
        "status": plan.status.description,
    }


def on_review(store: Store, repo: str, number: int, state: Any, plan: Any) -> None:
    """The review workflow's derived state and plan, as words and counts; the labels the plan changes."""
    store.set_review(repo, number, review_record(state, plan))
    row = store.pull(repo, number)
    if row is not None:
        labels = (set(row.labels) | set(plan.labels_add)) - set(plan.labels_remove)
        store.set_labels(repo, number, sorted(labels))
