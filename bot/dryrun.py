"""`taxonomist bot dry-run`: the bot's handlers against a local git repository, effects printed.

The same router and handlers the webhook worker runs, fed a synthetic `pull_request opened`
event for `head` against `base`; the local forge records the check run, comment and labels.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from bot.forges.heads import CHECK_RUN_NAME
from bot.forges.localgit import LocalGitForge
from bot.precheck.handler import precheck_setup
from bot.precheck.run import CHECK_RUN_NAME as PRECHECK_RUN
from bot.service.handlers import load_handlers
from bot.service.jobs import TRIAGE_QUEUE
from bot.service.router import HandlerContext
from bot.triage.indexes import IndexStore

KEEP_BASES = 8  # base commits whose index the cache keeps (the newest used)


def cache_root() -> Path:
    """`$TAXONOMIST_CACHE_DIR`, else `$XDG_CACHE_HOME/taxonomist` (`~/.cache/taxonomist`)."""
    configured = os.environ.get("TAXONOMIST_CACHE_DIR")
    return Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") \
        / "taxonomist"


def cached_indexes(repo: Path, base: str, root: Path | None = None) -> IndexStore:
    """The duplicate index of `repo` at `base`, kept under the base commit: a second dry run on the
    same base loads it instead of embedding the whole taxonomy again. The KEEP_BASES newest stay."""
    cache = (root or cache_root()) / "dry-run-indexes"
    folder = cache / LocalGitForge(repo=repo, base=base, head=base).base_sha
    if folder.is_dir():
        folder.touch()  # the newest used
    if cache.is_dir():
        for old in sorted((p for p in cache.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)[:-KEEP_BASES]:
            shutil.rmtree(old, ignore_errors=True)
    return IndexStore(folder)


def dry_run(repo: Path, base: str, head: str, *, body: str = "", skip: tuple[str, ...] = (),
            indexes: IndexStore | None = None, precheck_model: str = "none", precheck_judge: str = "",
            precheck_judge_model: str = "") -> LocalGitForge:
    """Run every handler for `pull_request opened` (in queue order) and return the forge holding what they did.

    `precheck_model` as the service's setting: `auto`, a folder or URL, or `none` (no precheck);
    `precheck_judge` and `precheck_judge_model` as `precheck_judge_url` and `precheck_judge_model`."""
    forge = LocalGitForge(repo=repo, base=base, head=head, body=body)
    pr = forge.pull_request(forge.number)
    router = load_handlers()
    payload = {"action": "opened", "number": pr.number,
               "pull_request": {"number": pr.number, "head": {"sha": pr.head_sha}, "body": body},
               "repository": {"full_name": repo.name}}
    ctx = HandlerContext(forge=forge, skip_checks=skip,
                         indexes=indexes if indexes is not None else IndexStore(None),
                         precheck=precheck_setup(precheck_model, None, precheck_judge, precheck_judge_model))
    jobs = router.jobs_for("pull_request", "dry-run", payload, time.time())
    for job in sorted(jobs, key=lambda j: router.queue_of(j) != TRIAGE_QUEUE):  # triage's queue first
        router.dispatch(job, ctx)
    return forge


def effects(forge: LocalGitForge) -> dict[str, Any]:
    """The `--format json` object: `check_run`, `comment` and `labels` as the issue specifies."""
    def newest(name: str) -> dict[str, Any] | None:
        run = next((r for r in reversed(forge.check_runs) if r.name == name), None)
        return None if run is None else {
            "name": run.name, "conclusion": run.conclusion, "title": run.title, "summary": run.summary,
            "annotations": [a.to_api() for a in run.annotations],
        }

    comment = next(iter(forge.comments.values()), None)
    found = {"check_run": newest(CHECK_RUN_NAME), "comment": {"body": comment} if comment is not None else None,
             "labels": {"added": sorted(forge.labels_now), "removed": []}}
    precheck = newest(PRECHECK_RUN)
    return {**found, "precheck_run": precheck} if precheck is not None else found


def render_text(found: dict[str, Any]) -> str:
    """For people: the check run, its annotations, the labels, then the comment as posted."""
    out: list[str] = []
    for run in (found["check_run"], found.get("precheck_run")):
        if run:
            out += [f"== check run {run['name']}: {run['conclusion']} ({run['title']})", ""]
            out += [f"  {a['path']}:{a['start_line']}: {a['annotation_level']}: {a['message']}"
                    for a in run["annotations"]]
            out.append("")
    labels = found["labels"]
    out += [f"== labels: add {', '.join(labels['added']) or '(none)'}; "
            f"remove {', '.join(labels['removed']) or '(none)'}", ""]
    if found["comment"]:
        out += ["== comment", "", found["comment"]["body"]]
    return "\n".join(out).rstrip() + "\n"
