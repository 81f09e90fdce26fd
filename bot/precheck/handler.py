"""The model's precheck after triage: a job of its own on the model queue, one per PR at a time.

The operator picks the model with `precheck_model` (`TAXONOMIST_PRECHECK_MODEL`): `auto` (the
default) is the newest published build in `$TAXONOMIST_BUILDS`, looked up on every job so a new
build is used without a restart, else the embedded base student; a model folder or an
OpenAI-compatible URL; `none` turns the precheck off.
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


@dataclass(frozen=True, slots=True)
class PrecheckSetup:
    """What the service (or the dry run) gives the precheck: the operator's model and the result cache."""

    model: str
    cache: PrecheckCache

    def resolved(self) -> str:
        if self.model != AUTO:
            return self.model
        from pipeline.evaluate.precheck import default_model

        return default_model()


def precheck_setup(model: str, cache: Path | None) -> PrecheckSetup | None:
    """The setup for the operator's `precheck_model`; None when it is `none`."""
    return None if model == OFF else PrecheckSetup(model, PrecheckCache(cache))


def ask(model: str) -> Any:
    """A runner for `bot.precheck.run.run_precheck`: `pipeline.evaluate.precheck.precheck` with this model
    (kept warm)."""

    def run(leaves: Sequence[Any], config: PrecheckConfig) -> dict[str, Any]:
        from pipeline.evaluate.precheck import precheck

        return precheck(leaves, config, model=model)

    return run


@router.on("pull_request", *TRIAGE_ACTIONS, name="precheck", coalesce=True, queue=MODEL_QUEUE)
def precheck_pull_request(job: Job, ctx: HandlerContext) -> PrecheckOutcome | None:
    """Ask the current model the PR's seed questions once its structural checks pass (cached per leaf)."""
    setup: PrecheckSetup | None = ctx.precheck
    if setup is None:
        return None
    model = setup.resolved()
    return run_precheck(ctx.forge, job.pr, runner=ask(model), model=model, cache=setup.cache)
