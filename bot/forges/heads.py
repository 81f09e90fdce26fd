"""When did the PR's head commit become its head? The review workflow binds LGTMs to that moment.

GitHub gives no server time for an ordinary push, so the bot collects *sightings*: moments at
which a commit is known (by server time) to have been the PR's head. A `taxonomist/triage` check
run that this app created for this PR (tagged with the PR's number, `bot.forges.forge.pr_tag`) is
created when the bot sees a push to this PR, so its start is a sighting of its commit; a
`head_ref_force_pushed` event of this PR is a sighting of the commit pushed. Nothing else is a
sighting: a run on the same commit made for another PR (a decoy PR opened with the commit the
author means to fast-forward to), or a run of another app with the same name, says nothing
about when the commit became *this* PR's head. A head can be the head more
than once (force-pushed back to an older commit, or fast-forwarded back to it after a force push
to one of its ancestors), so an old sighting of it proves nothing about now: only a sighting
later than every sighting of another commit, and no earlier than the last force push, dates the
current stint. When there is none, the
date is unknown: the caller dates the head "now" (dropping every earlier LGTM, the safe side)
and triage starts a fresh check run, whose start dates it from then on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.forges.forge import Forge, PullRequest

CHECK_RUN_NAME = "taxonomist/triage"


@dataclass(frozen=True, slots=True)
class Push:
    """A moment `at` (server time) at which `sha` was the PR's head."""

    sha: str
    at: datetime  # never earlier than the moment `sha` became the head (see `bot.review.state`)


def head_since(head_sha: str, runs: Iterable[Push], force_pushes: Iterable[Push]) -> datetime | None:
    """The first sighting of `head_sha` in its current stint as the head; None when no sighting shows it.

    `runs`: triage check run starts of the PR's commits; `force_pushes`: `head_ref_force_pushed`
    events. The stint began after the last sighting of another commit and no earlier than the last
    force push (just before it, another commit was the head, whichever it was). A check run in
    the same second as another commit's sighting counts as before it (times are to the second):
    the date may come out later than the truth, never earlier."""
    forced = list(force_pushes)
    sightings = [*runs, *forced]
    last_other = max((s.at for s in sightings if s.sha != head_sha), default=None)
    last_force = max((p.at for p in forced), default=None)
    own = [s.at for s in sightings if s.sha == head_sha
           and (last_other is None or s.at > last_other) and (last_force is None or s.at >= last_force)]
    return min(own, default=None)


def read_head_since(forge: Forge, pr: PullRequest) -> datetime | None:
    """`head_since` for the PR's head, from the triage check runs of the PR's commits (the head's and
    those now below it) and the PR's force pushes (which also cover commits no longer in it)."""
    forced = [Push(p.sha, p.at) for p in forge.force_pushes(pr.number)]
    shas = {c.sha for c in forge.commits(pr)} | {pr.head_sha}
    runs = [Push(sha, at) for sha in sorted(shas) for at in forge.check_run_starts(sha, CHECK_RUN_NAME, pr=pr.number)]
    return head_since(pr.head_sha, runs, forced)
