"""The PR lifecycle on the bot: welcome, reviewer assignment, `needs-rebase`, size labels, stale handling.

Each feature is configured in the `lifecycle:` section of `.github/taxonomist.yml` on the base
branch (off until enabled there), and each is idempotent: the welcome is found again by its marker (and given once per
contributor, remembered in the bot's store), a PR is assigned once, labels are set only when they
differ. The handlers need the bot's store (`ctx.store`), so the dry run, which has none, skips them.
Stale handling is a sweep over the store's open PRs (`taxonomist bot stale-sweep`, from cron).
"""

from __future__ import annotations

import logging
import time
from pathlib import PurePosixPath

from bot.comment.labels import set_label
from bot.comment.sticky import COMMENT_LIMIT, fit, upsert_comment
from bot.dashboard.store import Store
from bot.forges.forge import Forge, PullRequest
from bot.forges.repoconfig import read_config
from bot.lifecycle.rules import SIZE_NAMES, StaleInput, StaleStep, pick_reviewers, size_label, stale_step
from bot.service.router import HandlerContext, Job, Router
from bot.triage.entries import MAX_FILES
from bot.triage.run import contribution_paths
from checks.config import CONFIG_PATH, ConfigError, LifecycleConfig, RepoConfig, parse_config
from checks.document import Document, DocumentError

router = Router()

log = logging.getLogger(__name__)
WELCOME_MARKER = "<!-- taxonomist:welcome -->"
STALE_MARKER = "<!-- taxonomist:stale -->"
REBASE_CHECKS = 20  # open PRs looked at per push to their base branch
FIRST_TIMERS = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"})
PR_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review")

WELCOME = (f"{WELCOME_MARKER}\n"
           "Welcome, and thank you for your first contribution to this taxonomy!\n\n"
           "What happens next:\n"
           "1. The `taxonomist/triage` check reads your `qna.yaml` files; the comment it posts lists anything to fix.\n"
           "   Push fixes to this branch: the checks run again on every push.\n"
           "2. Triagers review the content; maintainers give `/lgtm` and an approver `/approve`s, which merges.\n"
           "3. Merged content goes into the next weekly community build, and this PR is told when it ships.\n\n"
           "Comment `/help` for the commands.")
STALE_WARNING = (f"{STALE_MARKER}\n"
                 "This pull request has had no activity for {days} days. It will be labelled `{label}` in "
                 "{left} days unless something happens (a push, a comment or a review). Time while the weekly "
                 "build is down does not count.")


def _lifecycle(forge: Forge, pr: PullRequest) -> LifecycleConfig | None:
    try:
        return read_config(forge, pr).lifecycle
    except ConfigError:
        return None  # triage reports the broken configuration on the PR


def welcome(forge: Forge, store: Store, pr: PullRequest, config: LifecycleConfig) -> bool:
    """Welcome a first-time contributor on their first PR the bot sees; True when posted."""
    if not config.welcome.enabled or pr.author_association not in FIRST_TIMERS or pr.author.endswith("[bot]"):
        return False
    key = f"welcomed:{pr.author.lower()}"
    store.claim(forge.name, key, pr.number)
    if store.recall(forge.name, key) != pr.number or forge.find_comment(pr.number, WELCOME_MARKER) is not None:
        return False
    extra = f"\n\n{config.welcome.message}" if config.welcome.message else ""
    forge.create_comment(pr.number, fit(WELCOME + extra, COMMENT_LIMIT, "the welcome message was cut to fit."))
    return True


def triager_logins(forge: Forge, entries: tuple[str, ...]) -> list[str]:
    """The triagers' logins in configured order: users as written, teams expanded (each person once)."""
    out: dict[str, str] = {}
    for entry in entries:
        for login in forge.team_members(entry) if "/" in entry else [entry]:
            out.setdefault(login.lower(), login)
    return list(out.values())


def assign(forge: Forge, store: Store, pr: PullRequest, config: RepoConfig) -> list[str]:
    """Request reviews from the triagers, round robin, once per PR; returns whom it asked."""
    settings = config.lifecycle.assign
    if not settings.enabled or not config.review.triagers or pr.requested_reviewers or pr.draft:
        return []
    if store.recall(forge.name, f"assigned:{pr.number}") is not None:
        return []
    candidates = triager_logins(forge, config.review.triagers)
    load: dict[str, int] = {}
    for row in store.open_pulls(forge.name):
        if row.number != pr.number:
            for login in row.requested:
                load[login.lower()] = load.get(login.lower(), 0) + 1
    start = store.recall(forge.name, "assign:next") or 0
    chosen, nxt = pick_reviewers(candidates, int(start), pr.author, load, settings)
    if chosen and not forge.request_reviewers(pr.number, chosen):
        log.warning("review request refused: triagers must be collaborators", extra={"pr": pr.number,
                                                                                      "reviewers": chosen})
        chosen = []
    if chosen:
        store.set_requested(forge.name, pr.number, chosen)
    store.remember(forge.name, "assign:next", nxt)
    store.remember(forge.name, f"assigned:{pr.number}", chosen)
    return chosen


def count_examples(data: bytes) -> int:
    """Seed examples of a skill, questions of a knowledge leaf; 0 for a file that does not parse."""
    try:
        doc = Document.parse(data.decode("utf-8", errors="replace")).data
    except DocumentError:
        return 0
    seeds = doc.get("seed_examples") if isinstance(doc, dict) else None
    if not isinstance(seeds, list):
        return 0
    total = 0
    for seed in seeds:
        qas = seed.get("questions_and_answers") if isinstance(seed, dict) else None
        total += len(qas) if isinstance(qas, list) else 1
    return total


def size(forge: Forge, pr: PullRequest, labels: set[str], config: LifecycleConfig) -> str | None:
    """Set the PR's size label from its leaves and examples at the head; returns it."""
    if not config.size.enabled:
        return None
    changed = [(c.path, c.status) for c in forge.changed_files(pr)]
    paths = contribution_paths(changed, lambda p: forge.entry_kind(p, pr.head_sha) is not None)
    examples = sum(count_examples(forge.read_file(p, pr.head_sha) or b"") for p in paths[:MAX_FILES])
    leaves = len({PurePosixPath(p).parent for p in paths})
    wanted = size_label(leaves, examples, config.size)
    for name in SIZE_NAMES:
        set_label(forge, pr.number, name, name == wanted, labels)
    return wanted


def needs_rebase(forge: Forge, pr: PullRequest, labels: set[str], config: LifecycleConfig) -> None:
    """`needs-rebase` while the PR conflicts with its base; nothing while GitHub has not computed it."""
    if config.needs_rebase.enabled and pr.mergeable is not None:
        set_label(forge, pr.number, config.needs_rebase.label, not pr.mergeable, labels)


def unstale(forge: Forge, store: Store, number: int, labels: set[str], config: LifecycleConfig) -> None:
    """Activity: the stale clock restarts and the `stale` label goes."""
    store.forget(forge.name, f"stale-warned:{number}")
    if config.stale.enabled:
        set_label(forge, number, config.stale.label, False, labels)


@router.on("pull_request", *PR_ACTIONS, name="lifecycle", coalesce=True)
def lifecycle_pull_request(job: Job, ctx: HandlerContext) -> None:
    """A PR opened or pushed to: welcome, assignment, size, needs-rebase, and the stale clock restarts."""
    store: Store | None = ctx.store
    if store is None:
        return
    forge: Forge = ctx.forge
    pr = forge.pull_request(job.pr)
    if pr.state != "open":
        return
    try:
        config = read_config(forge, pr)
    except ConfigError:
        return
    lifecycle = config.lifecycle
    if not any((lifecycle.welcome.enabled, lifecycle.assign.enabled, lifecycle.size.enabled,
                lifecycle.needs_rebase.enabled, lifecycle.stale.enabled)):
        return
    welcome(forge, store, pr, lifecycle)
    assign(forge, store, pr, config)
    labels = forge.labels(pr.number)
    size(forge, pr, labels, lifecycle)
    needs_rebase(forge, pr, labels, lifecycle)
    if job.action in ("synchronize", "reopened"):
        unstale(forge, store, pr.number, labels, lifecycle)


@router.on("issue_comment", "created", name="lifecycle_activity")
@router.on("pull_request_review", "submitted", name="lifecycle_activity")
def lifecycle_activity(job: Job, ctx: HandlerContext) -> None:
    """A person commented or reviewed: the stale clock restarts (the bot's own comments do not count)."""
    store: Store | None = ctx.store
    sender = job.payload.get("sender") or {}
    if store is None or sender.get("type") == "Bot" or str(sender.get("login", "")).endswith("[bot]"):
        return
    forge: Forge = ctx.forge
    row = store.pull(forge.name, job.pr)
    warned = store.recall(forge.name, f"stale-warned:{job.pr}")
    if warned is None and row is not None and not any(label.lower().startswith("stale") for label in row.labels):
        return  # nothing to undo: most comments cost no API call
    pr = forge.pull_request(job.pr)
    lifecycle = _lifecycle(forge, pr)
    if lifecycle is not None:
        unstale(forge, store, pr.number, forge.labels(pr.number), lifecycle)


@router.on("push", name="lifecycle_base_moved", coalesce=True, per_pull_request=False)
def lifecycle_base_moved(job: Job, ctx: HandlerContext) -> None:
    """A push to a branch that open PRs target may make them conflict (or stop): re-check `needs-rebase`.

    Bounded: at most `REBASE_CHECKS` PRs a push, taken in turn (the store remembers where the last push
    stopped), each one read (GitHub's `mergeable`) with its labels from the store; the rest are looked at
    on the next pushes and on their own events."""
    store: Store | None = ctx.store
    ref = str(job.payload.get("ref", ""))
    if store is None or not ref.startswith("refs/heads/") or job.payload.get("deleted"):
        return
    branch = ref.removeprefix("refs/heads/")
    forge: Forge = ctx.forge
    targets = sorted((row for row in store.open_pulls(job.repo) if row.base_ref == branch), key=lambda r: r.number)
    lifecycle = _config_at(forge, branch) if targets else None
    if lifecycle is None or not lifecycle.needs_rebase.enabled:
        return
    after = store.recall(job.repo, f"rebase-checked:{branch}") or 0
    turn = ([r for r in targets if r.number > after] + [r for r in targets if r.number <= after])[:REBASE_CHECKS]
    for row in turn:
        pr = forge.pull_request(row.number)
        if pr.state == "open":
            needs_rebase(forge, pr, set(row.labels), lifecycle)
    store.remember(job.repo, f"rebase-checked:{branch}", turn[-1].number)


def stale_sweep(forge: Forge, store: Store, now: float | None = None) -> dict[str, list[int]]:
    """Warn, then label `stale`, the repository's open PRs without activity; returns what it did.

    Reads activity from the store (a person's pushes, comments and reviews, from webhooks), so the
    bot's own comments and labels never count as activity."""
    now = time.time() if now is None else now
    done: dict[str, list[int]] = {"warned": [], "labelled": []}
    down = store.build_down_since() is not None
    back = store.build_back_at()
    configs: dict[str, LifecycleConfig | None] = {}
    for row in store.open_pulls(forge.name):
        if row.base_ref not in configs:
            configs[row.base_ref] = _config_at(forge, row.base_ref)
        config = configs[row.base_ref]
        if config is None:
            continue
        warned = store.recall(forge.name, f"stale-warned:{row.number}")
        if warned is not None and row.activity_at > warned:
            store.forget(forge.name, f"stale-warned:{row.number}")
            warned = None
        step = stale_step(StaleInput(frozenset(label.lower() for label in row.labels), row.activity_at, warned,
                                     down, back), config.stale, now)
        if step is StaleStep.WARN:
            body = STALE_WARNING.format(days=config.stale.warn_after_days, label=config.stale.label,
                                        left=config.stale.label_after_days)
            upsert_comment(forge, row.number, STALE_MARKER, body)
            store.remember(forge.name, f"stale-warned:{row.number}", now)
            done["warned"].append(row.number)
        elif step is StaleStep.LABEL:
            forge.add_labels(row.number, [config.stale.label])
            store.set_labels(forge.name, row.number, [*row.labels, config.stale.label])
            done["labelled"].append(row.number)
    return done


def _config_at(forge: Forge, ref: str) -> LifecycleConfig | None:
    data = forge.read_file(CONFIG_PATH, ref)
    if data is None:
        return LifecycleConfig()
    try:
        return parse_config(data.decode("utf-8", errors="replace"), f"{CONFIG_PATH}@{ref}").lifecycle
    except ConfigError as exc:
        log.warning("stale sweep skips a base with an invalid configuration", extra={"ref": ref, "error": str(exc)})
        return None
