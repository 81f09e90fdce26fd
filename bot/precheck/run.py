"""The precheck job: after triage, the current model answers the PR's seed questions (`pipeline.evaluate.precheck`).

A job of its own (route `bot.precheck.handler`), on the model queue (its own workers) and
coalesced per PR, so it never delays a triage check run and a burst of pushes leaves at most one
precheck per PR waiting. It runs only on a head whose structural checks pass, and publishes:

- a `taxonomist/precheck` check run: `neutral` when a file is `known`, else `success` (never blocking);
- its collapsed section in the sticky comment (`bot.precheck.section`);
- the label `model-already-knows` while a file is `known` (removed when none is).

Results are cached per file under (model, file content, thresholds): a push that does not touch a
leaf costs no model call. The model is the operator's (`bot.precheck.handler`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.comment.labels import set_label
from bot.comment.sticky import MARKER, escape, sections_of, upsert
from bot.forges.forge import CheckRunResult, Forge
from bot.forges.repoconfig import read_config
from bot.precheck.section import VERDICT_WORDS, render_section
from bot.triage.run import contribution_sources, publish_check_run
from checks.config import ConfigError, PrecheckConfig
from checks.runner import Checker

CHECK_RUN_NAME = "taxonomist/precheck"
LABEL = "model-already-knows"
MAX_FILE_ROWS = 200  # files listed in the check run's summary
SUMMARY_LIMIT = 60_000  # characters: GitHub refuses a check-run summary over 65535

# (files' seeds, thresholds) -> the precheck object; `pipeline.evaluate.precheck.precheck` with the operator's model
Runner = Callable[[Sequence[Any], PrecheckConfig], dict[str, Any]]


class NotTriagedYet(RuntimeError):
    """The sticky comment does not exist yet: the queue retries the precheck after triage."""


class PrecheckCache:
    """One JSON file per (model, file content, thresholds) under the bot's data directory; none: no cache."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    @staticmethod
    def key(model: str, data: bytes, config: PrecheckConfig) -> str:
        digest = hashlib.sha256(f"{model}\0{json.dumps(asdict(config), sort_keys=True)}\0".encode())
        digest.update(data)
        return digest.hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        path = None if self.folder is None else self.folder / f"{key}.json"
        if path is None or not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # a torn write: computed again

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{key}.tmp{os.getpid()}"
        tmp.write_text(json.dumps(value), encoding="utf-8")
        tmp.replace(self.folder / f"{key}.json")


@dataclass(frozen=True, slots=True)
class PrecheckOutcome:
    result: dict[str, Any] | None  # None: the head's structural checks fail, nothing was asked
    check_run: CheckRunResult | None
    computed: int  # files the model answered (not from the cache)


def render_check_run(result: dict[str, Any]) -> CheckRunResult:
    """Neutral when the model already knows a file (a triager should look), else success."""
    known = [f for f in result["files"] if f["verdict"] == "known"]
    counts = {v: sum(f["verdict"] == v for f in result["files"]) for v in VERDICT_WORDS}
    title = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    lines = [f"Model: {escape(result['model'], limit=120)}", "",
             f"Asked {result.get('asked', 0)} of {result.get('seeds', 0)} seed questions (at most "
             f"{result.get('max_questions', '?')} a push).", "", "| File | Verdict | Correct answers |",
             "| --- | --- | --- |"]
    for f in result["files"][:MAX_FILE_ROWS]:
        labels = [e["grade"]["label"] for e in f["examples"]]
        correct = f"{labels.count('correct')} of {len(labels)}" if labels else ""
        lines.append(f"| {escape(f['path'], limit=200)} | {f['verdict']} | {correct} |")
    if len(result["files"]) > MAX_FILE_ROWS:
        lines.append(f"…and {len(result['files']) - MAX_FILE_ROWS} more files.")
    lines += ["", "The answers, question by question, are in the pull request's Taxonomist comment. This check "
              "never blocks."]
    return CheckRunResult(name=CHECK_RUN_NAME, conclusion="neutral" if known else "success",
                          title=title or "No taxonomy files", summary="\n".join(lines)[:SUMMARY_LIMIT])


def run_precheck(forge: Forge, number: int, *, runner: Runner, model: str,
                 cache: PrecheckCache | None = None, judge: str = "") -> PrecheckOutcome | None:
    """Precheck the PR's current head and publish the check run, the section and the label.

    `model` names the model `runner` asks and `judge` the operator's judge (empty: none), for the
    cache keys: a file graded by another judge is graded again. Returns None for a closed PR,
    a disabled precheck, a base configuration triage already reports as invalid, or no file."""
    from pipeline.evaluate.precheck import NOT_ASKED, read_seeds, rule_of

    pr = forge.pull_request(number)
    if pr.state != "open":
        return None
    try:
        config = read_config(forge, pr)
    except ConfigError:
        return None  # triage reports the bad configuration on the PR
    if not config.precheck.enabled:
        return None
    comment = forge.find_comment(number, MARKER)
    if comment is None:
        raise NotTriagedYet(f"pull request #{number} has no triage comment yet")
    sources = contribution_sources(forge, pr)[0].sources
    if not sources:
        return None
    if Checker(config, only=("structural",)).check(sources).errors:
        set_label(forge, number, LABEL, False)
        if "precheck" in sections_of(comment[1]):
            upsert(forge, number, {"precheck": None}, comment)
        return PrecheckOutcome(None, None, 0)
    spec, cache = (f"{model}\0judge:{judge}" if judge else model), cache or PrecheckCache(None)
    files: list[dict[str, Any] | None] = []
    missing = []
    for source in sources:
        found = cache.get(PrecheckCache.key(spec, source.read(), config.precheck))
        files.append(found)
        if found is None:
            missing.append(source)
    model_name = None
    fresh: dict[str, Any] = {}
    if missing:
        leaves, _ = read_seeds(missing, config)  # the structural checks passed: every file reads
        fresh = runner(leaves, config.precheck)
        model_name = fresh["model"]
        answered = iter(fresh["files"])
        for i, source in enumerate(sources):
            if files[i] is None:
                entry = {**next(answered), "model": model_name}
                if entry["verdict"] != NOT_ASKED:  # asked on a later push, when the cap or the budget allows
                    cache.put(PrecheckCache.key(spec, source.read(), config.precheck), entry)
                files[i] = entry
    shown = [{k: v for k, v in f.items() if k != "model"} for f in files if f is not None]
    result = {"files": shown, "model": model_name or next((f["model"] for f in files if f), model),
              "asked": sum(f.get("asked", 0) for f in shown), "seeds": sum(f.get("seeds", 0) for f in shown),
              "max_questions": config.precheck.max_questions, "rule": rule_of(config.precheck)}
    run = render_check_run(result)
    publish_check_run(forge, pr, run)
    set_label(forge, number, LABEL, any(f["verdict"] == "known" for f in shown))
    upsert(forge, number, {"precheck": render_section(result, pr.head_sha)})  # triage may have edited it meanwhile
    return PrecheckOutcome(result, run, len(missing))
