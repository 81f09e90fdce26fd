"""The model's precheck after triage: a job of its own on the model queue, one per PR at a time.

The operator picks the model with `precheck_model` (`TAXONOMIST_PRECHECK_MODEL`): `auto` (the
default) is the newest published build in `$TAXONOMIST_BUILDS`, looked up on every job so a new
build is used without a restart, else the embedded base student; a model folder or an
OpenAI-compatible URL; `none` turns the precheck off. A judge for the answers without facts
(writing tasks) is the operator's too: `precheck_judge_url` and `precheck_judge_model`, its key in
`$TAXONOMIST_PRECHECK_JUDGE_API_KEY` (read when the judge is first asked, never logged). Never a
repository's: a URL from a pull request's configuration could point inside the operator's network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.precheck.run import PrecheckCache, PrecheckOutcome, run_precheck
from bot.service.jobs import MODEL_QUEUE
from bot.service.router import HandlerContext, Job, Router
from bot.triage.handler import TRIAGE_ACTIONS
from checks.config import PrecheckConfig

router = Router()

OFF, AUTO = "none", "auto"
JUDGE_KEY_ENV = "TAXONOMIST_PRECHECK_JUDGE_API_KEY"  # the judge's API key: read from the environment, never stored


@dataclass(frozen=True, slots=True)
class JudgeSpec:
    """The operator's configured judge: an OpenAI-compatible URL and the model name sent to it."""

    url: str
    model: str = ""

    def teacher_settings(self) -> Any:
        from pipeline.settings import TeacherSettings

        return TeacherSettings(endpoint=self.url, model=self.model, api_key_env=JUDGE_KEY_ENV)

    def identity(self) -> str:
        """For the cache key (a different judge grades differently) and for people: never the key."""
        return f"{self.url} {self.model}".strip()


@dataclass(frozen=True, slots=True)
class PrecheckSetup:
    """What the service (or the dry run) gives the precheck: the operator's model and the result cache."""

    model: str
    cache: PrecheckCache
    judge: JudgeSpec | None = None

    def resolved(self) -> str:
        if self.model != AUTO:
            return self.model
        from pipeline.evaluate.precheck import default_model

        return default_model()


def precheck_setup(model: str, cache: Path | None, judge_url: str = "", judge_model: str = ""
                   ) -> PrecheckSetup | None:
    """The setup for the operator's `precheck_model` and judge; None when the model is `none`."""
    judge = JudgeSpec(judge_url, judge_model) if judge_url and judge_url != OFF else None
    return None if model == OFF else PrecheckSetup(model, PrecheckCache(cache), judge)


def ask(model: str, judge: JudgeSpec | None = None) -> Any:
    """A runner for `bot.precheck.run.run_precheck`: `pipeline.evaluate.precheck.precheck` with this model
    and judge (both kept warm)."""

    def run(leaves: Sequence[Any], config: PrecheckConfig) -> dict[str, Any]:
        from pipeline.evaluate.precheck import precheck

        return precheck(leaves, config, model=model, judge=None if judge is None else judge.teacher_settings())

    return run


@router.on("pull_request", *TRIAGE_ACTIONS, name="precheck", coalesce=True, queue=MODEL_QUEUE)
def precheck_pull_request(job: Job, ctx: HandlerContext) -> PrecheckOutcome | None:
    """Ask the current model the PR's seed questions once its structural checks pass (cached per leaf)."""
    setup: PrecheckSetup | None = ctx.precheck
    if setup is None:
        return None
    model = setup.resolved()
    return run_precheck(ctx.forge, job.pr, runner=ask(model, setup.judge), model=model, cache=setup.cache,
                        judge=setup.judge.identity() if setup.judge else "")
