"""`/generate` in a PR comment: the training-data preview (`bot.generate.run`), a job on the model queue.

The operator's build settings are used, so the preview's cache entries are the build's: the
build's `--config` file (`build_config`, `TAXONOMIST_BUILD_CONFIG`) and cache folder
(`$TAXONOMIST_CACHE`, as `taxonomist build`). One person's `/generate` is rate-limited per repository at intake
(`GENERATE_RATE`): each one fetches what the PR names and runs the teacher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.generate.run import GenerateOutcome, Previewer, run_generate
from bot.review.commands import Name, parse
from bot.review.state import is_bot
from bot.review.workflow import TEAMS
from bot.service import metrics
from bot.service.jobs import MODEL_QUEUE
from bot.service.ratelimit import UserRateLimit
from bot.service.router import HandlerContext, Job, Router

router = Router()
GENERATE_RATE = (3, 3600.0)  # at most 3 `/generate` comments per user and repository in an hour
GENERATES = UserRateLimit(*GENERATE_RATE)


@dataclass(frozen=True, slots=True)
class GenerateSetup:
    """The build's settings file (None: the defaults) and cache folder."""

    build_config: Path | None
    cache: Path

    def previewer(self) -> Previewer:
        def run(sources: Sequence[Any]) -> dict[str, Any]:
            from pipeline.generate.preview import preview
            from pipeline.settings import load_config

            return preview(sources, load_config(self.build_config).generate, self.cache,
                           model_cache=self.cache / "models")

        return run


def generate_setup(build_config: str) -> GenerateSetup:
    from pipeline.weekly import BuildContext

    return GenerateSetup(Path(build_config) if build_config else None, BuildContext.default().cache)


def _asks_to_generate(event: str, payload: dict[str, Any]) -> bool:
    """Intake: only a comment with a `/generate` line makes a job (any other costs no API call), and only
    `GENERATE_RATE` of them per person and repository."""
    comment = payload.get("comment")
    body = comment.get("body") if isinstance(comment, dict) else None  # payload fields are hostile: any type
    if not any(c.name is Name.GENERATE for c in parse(body if isinstance(body, str) else "").commands):
        return False
    user = comment.get("user") if isinstance(comment, dict) else None
    repo = payload.get("repository")
    login = str(user.get("login") or "") if isinstance(user, dict) else ""
    if not GENERATES.allow(str(repo.get("full_name") or "") if isinstance(repo, dict) else "", login):
        metrics.COMMANDS_LIMITED.inc()
        return False
    return True


@router.on("issue_comment", "created", name="generate", coalesce=True, queue=MODEL_QUEUE,
           wants=_asks_to_generate)
def generate_on_request(job: Job, ctx: HandlerContext) -> GenerateOutcome | None:
    """A `/generate` line in a new comment by a person: preview the PR's training data."""
    comment = job.payload.get("comment", {})
    user = comment.get("user", {}).get("login", "")
    if ctx.generate is None or is_bot(user) or not any(c.name is Name.GENERATE
                                                       for c in parse(comment.get("body")).commands):
        return None
    membership = TEAMS.membership(lambda who, team: ctx.forge.is_team_member(team, who))
    return run_generate(ctx.forge, job.pr, user, previewer=ctx.generate.previewer(), membership=membership)
