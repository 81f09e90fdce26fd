"""`/generate`: a preview of the training data a PR's leaves would give, on request of a triager.

Made by `pipeline.generate.preview` with the weekly build's flows, settings and cache (the operator's build
config and cache folder), so the build reuses the samples once the PR merges; knowledge leaves
included. Publishes a `taxonomist/generate` check run on the head (samples kept, candidates
dropped with their reasons), a reply comment that summarises it (edited in place on a rerun for
the same head), and the `precheck-generate-ready` label, as upstream's flow marks a PR whose
precheck and generation previews are done. Asked by someone else, it replies who may ask.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.comment.sticky import upsert_comment
from bot.forges.forge import CheckRunResult, Forge, PullRequest
from bot.forges.repoconfig import read_config
from bot.precheck.section import cell
from bot.review.state import Role, Roles
from bot.triage.run import contribution_sources, publish_check_run
from checks.config import ConfigError
from checks.runner import Checker

CHECK_RUN_NAME = "taxonomist/generate"
READY_LABEL = "precheck-generate-ready"
ALLOWED = (Role.TRIAGERS, Role.MAINTAINERS, Role.APPROVERS)
SAMPLES_SHOWN = 20  # per leaf in the check run; the build's cache holds them all
MAX_SAMPLES_SHOWN = 80  # in all: two cut cells a row stay below the check run summary's 65535 characters

# the PR's contribution sources -> `pipeline.generate.preview.preview`'s object
Previewer = Callable[[Sequence[Any]], dict[str, Any]]


def marker(head_sha: str) -> str:
    return f"<!-- taxonomist:generate:{head_sha} -->"


@dataclass(frozen=True, slots=True)
class GenerateOutcome:
    preview: dict[str, Any] | None
    reply: str


def render_check_run(preview: dict[str, Any]) -> CheckRunResult:
    """Per leaf: the kept samples (question and answer, escaped and cut) and the dropped ones by reason."""
    kept = sum(len(leaf["kept"]) for leaf in preview["leaves"])
    dropped = sum(sum(leaf["dropped"].values()) for leaf in preview["leaves"])
    lines = [f"Teacher: {cell(preview['teacher'], limit=120)}", ""]
    room = MAX_SAMPLES_SHOWN
    for leaf in preview["leaves"]:
        origin = "from the build's cache" if leaf["cached"] else "generated now, cached for the build"
        lines += [f"### {cell(leaf['leaf'], limit=200)} ({leaf['flow']}, {origin})", ""]
        if leaf.get("error"):
            lines += [f"Not generated: {cell(leaf['error'], limit=500)}", ""]
            continue
        lines += [f"**Kept: {len(leaf['kept'])}**", "", "| Question | Answer |", "| --- | --- |"]
        shown = min(SAMPLES_SHOWN, room)
        lines += [f"| {cell(s.get('question', ''))} | {cell(s.get('answer', ''))} |"
                  for s in leaf["kept"][:shown]]
        if len(leaf["kept"]) > shown:
            lines.append(f"…and {len(leaf['kept']) - shown} more, not shown (the check run's size limit).")
        room = max(0, room - shown)
        reasons = ", ".join(f"{cell(reason, limit=80)}: {n}" for reason, n in sorted(leaf["dropped"].items()))
        lines += ["", f"**Dropped: {sum(leaf['dropped'].values())}**" + (f" ({reasons})" if reasons else ""), ""]
    return CheckRunResult(name=CHECK_RUN_NAME, conclusion="neutral" if not kept else "success",
                          title=f"{kept} samples kept, {dropped} dropped", summary="\n".join(lines))


def _reply(forge: Forge, pr: PullRequest, text: str) -> None:
    mark = marker(pr.head_sha)
    upsert_comment(forge, pr.number, mark, f"{mark}\n{text}\n")


def run_generate(forge: Forge, number: int, user: str, *, previewer: Previewer,
                 membership: Callable[[str, str], bool]) -> GenerateOutcome | None:
    """The preview for PR `number`, asked by `user`; None for a closed PR."""
    pr = forge.pull_request(number)
    if pr.state != "open":
        return None
    try:
        config = read_config(forge, pr)
    except ConfigError:  # a retry would not help; triage's comment already says what is wrong
        text = "`/generate` waits for a valid `.github/taxonomist.yml` on the base branch (see the triage comment)."
        _reply(forge, pr, text)
        return GenerateOutcome(None, text)
    roles = Roles(config.review, membership)
    if not any(roles.has(user, role) for role in ALLOWED):
        who = "; ".join(f"{role.value}: {roles.who(role)}" for role in ALLOWED)
        text = f"Only triagers, maintainers and approvers may `/generate` ({who})."
        _reply(forge, pr, text)
        return GenerateOutcome(None, text)
    sources = contribution_sources(forge, pr)[0].sources
    if not sources:
        text = "`/generate`: this pull request changes no taxonomy leaf."
    elif Checker(config, only=("structural",)).check(sources).errors:
        text = "`/generate` waits for the structural checks to pass: fix the errors in the triage comment first."
    else:
        preview = previewer(sources)
        run = render_check_run(preview)
        publish_check_run(forge, pr, run)
        if READY_LABEL not in forge.labels(number):
            forge.add_labels(number, [READY_LABEL])
        cached = sum(leaf["cached"] for leaf in preview["leaves"])
        text = (f"Training-data preview at `{pr.head_sha[:7]}`: {run.title} over {len(preview['leaves'])} "
                f"leaves ({cached} from the build's cache). The samples are in the `{CHECK_RUN_NAME}` check run; "
                "the weekly build reuses them once this pull request merges.")
        _reply(forge, pr, text)
        return GenerateOutcome(preview, text)
    _reply(forge, pr, text)
    return GenerateOutcome(None, text)
