"""`taxonomist bot ...`: serve the GitHub App, run workers, or dry-run triage on a local repository.

Only typer and light modules at the top: heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from checks.cli import Command, Group
from checks.cli import fail as exit_2

if TYPE_CHECKING:
    from bot.service.settings import Settings

app = typer.Typer(name="bot", help="The GitHub App: webhook service, workers, dry run.\n\n"
                  "Example: taxonomist bot dry-run --repo ../taxonomy --base main --head my-branch",
                  no_args_is_help=True,
                  cls=Group,
                  add_completion=False, pretty_exceptions_enable=False)


class DryRunFormat(StrEnum):
    text = "text"
    json = "json"


class WorkerQueue(StrEnum):
    """The named queues a worker takes jobs from (`bot.service.jobs.QUEUES`)."""

    triage = "triage"
    model = "model"
    all = "all"


fail = partial(exit_2, command="taxonomist bot")


def split_ids(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or () for n in v.split(",") if n.strip())


@app.command("dry-run", cls=Command)
def dry_run_command(
    repo: Annotated[Path, typer.Option("--repo", help="A local git checkout of the taxonomy.")] = Path("."),
    base: Annotated[str, typer.Option("--base", help="The branch the PR would merge into.")] = "main",
    head: Annotated[str, typer.Option("--head", help="The contribution's branch or commit.")] = "HEAD",
    output_format: Annotated[DryRunFormat, typer.Option(
        "--format", "-f", help="text: the check run, comment and labels as a reviewer reads them; json: the "
                               "same as one object, for scripts.")] = DryRunFormat.text,
    body_file: Annotated[Path | None, typer.Option("--body-file", help="The PR description, from a file.")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Checks or groups to skip.")] = None,
    against: Annotated[Path | None, typer.Option(
        "--against", metavar="INDEX", help="Check duplicates against this embedding index (`taxonomist index "
                                           "build`) instead of indexing BASE.")] = None,
    cache: Annotated[Path | None, typer.Option(
        "--cache-dir", metavar="DIR", help="Where BASE's index is kept by commit, so a second run on the same "
                                           "base skips indexing (default: ~/.cache/taxonomist).")] = None,
    precheck_model: Annotated[str, typer.Option(
        "--precheck-model", metavar="auto|none|FOLDER|URL", help="The model that prechecks the contribution "
        "(auto: the newest build in $TAXONOMIST_BUILDS, else the embedded base student; none: no precheck)."
    )] = "auto",
    precheck_judge: Annotated[str, typer.Option(
        "--precheck-judge", metavar="URL", help="An OpenAI-compatible judge for the answers without facts (writing "
        "tasks), as the operator's judge setting in the bot; its API key from the environment (docs/precheck.md). "
        "Default: none (similarity).")] = "",
    precheck_judge_model: Annotated[str, typer.Option(
        "--precheck-judge-model", metavar="NAME", help="The model name sent to the judge (default: its first).")] = "",
) -> None:
    """Triage HEAD against BASE of a local repository and print the check run, comment and labels.

    Example: taxonomist bot dry-run --repo ../taxonomy --base main --head my-skill

    Example: taxonomist bot dry-run --repo ../taxonomy --head my-skill --skip content --format json
    """
    from bot.dryrun import cached_indexes, dry_run, effects, render_text
    from bot.forges.localgit import GitError
    from bot.triage.indexes import IndexStore
    from checks.cli import load_index
    from checks.registry import SelectionError
    from pipeline.evaluate.precheck import PrecheckError

    if not (repo / ".git").exists():
        raise fail(f"{repo}: not a git repository")
    try:
        body = body_file.read_text(encoding="utf-8") if body_file else ""
        if against is not None:
            indexes = IndexStore(None)
            indexes.seed(repo.resolve().name, load_index(against))
        else:
            indexes = cached_indexes(repo.resolve(), base, cache)
        found = effects(dry_run(repo.resolve(), base, head, body=body, skip=split_ids(skip), indexes=indexes,
                                precheck_model=precheck_model, precheck_judge=precheck_judge,
                                precheck_judge_model=precheck_judge_model))
    except (GitError, SelectionError, OSError, PrecheckError) as exc:
        raise fail(str(exc)) from None
    if output_format is DryRunFormat.json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
    else:
        sys.stdout.write(render_text(found))
    run = found["check_run"]
    raise typer.Exit(1 if run and run["conclusion"] == "failure" else 0)


def _settings(config: Path | None, webhooks: bool = True) -> Settings:
    """The settings, or exit status 2 with the reason (a missing secret or key among them)."""
    from bot.service.logs import setup_logging
    from bot.service.settings import SettingsError, load_settings

    setup_logging()
    try:
        return load_settings(config_file=config, webhooks=webhooks)
    except SettingsError as exc:
        raise fail(str(exc)) from None


def _service(settings: Settings) -> Any:
    """The service (`bot.service.wiring.Service`), or exit status 2 when its store's database cannot be reached."""
    from bot.dashboard.sql import DatabaseUnavailable
    from bot.service.wiring import Service

    try:
        return Service(settings)
    except DatabaseUnavailable as exc:
        raise fail(f"TAXONOMIST_DATABASE_URL: cannot reach {exc}") from None


def _store(data_dir: Path, database_url: str) -> Any:
    """The bot's store (`bot.dashboard.store.Store`), or exit status 2 when its database cannot be reached."""
    from bot.dashboard.sql import DatabaseUnavailable, is_postgres_url
    from bot.dashboard.store import Store

    if database_url and not is_postgres_url(database_url):
        raise fail("--database-url: not a postgresql:// URL (empty: SQLite in the data directory)")
    try:
        return Store.open(data_dir, database_url)
    except DatabaseUnavailable as exc:
        raise fail(f"--database-url: cannot reach {exc}") from None


ConfigOption = Annotated[Path | None, typer.Option("--config", metavar="FILE",
                                                   help="Settings file (YAML); environment variables win.")]


@app.command("serve", cls=Command)
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    config: ConfigOption = None,
    worker: Annotated[bool, typer.Option("--worker/--no-worker",
                                         help="Run worker threads in this process (off: queue only).")] = True,
) -> None:
    """Serve the webhook (POST /webhook, GET /healthz, GET /metrics) and the dashboard (GET /), with
    workers by default: TAXONOMIST_WORKERS threads for triage and review in this process, and
    TAXONOMIST_MODEL_WORKERS threads for model work in a `bot worker --queue model` process of its own
    (0: none; model work is then left to workers elsewhere).
    Reconciles at start-up and every TAXONOMIST_RECONCILE_MINUTES (default 10; see `bot reconcile`).

    Example: taxonomist bot serve --config bot.yml --port 8000
    """
    import uvicorn

    from bot.dashboard.web import Access
    from bot.service.app import create_app, raise_descriptor_limit, serve_options, worker_lifespan
    from bot.service.jobs import TRIAGE_QUEUE
    from bot.service.wiring import start_model_worker, stop_model_worker

    settings = _settings(config)
    # Started before this process has any thread of its own: forking a threaded process is not safe.
    model = start_model_worker(settings.model_workers, config) if worker and settings.model_workers else None
    try:
        service = _service(settings)
        if worker:
            service.recorder.start_heartbeat(settings.workers)
        lifespan = worker_lifespan(service.queue, {TRIAGE_QUEUE: settings.workers}) if worker else None
        if settings.reconcile_minutes > 0:
            from bot.reconcile.run import Reconciler, reconciling

            lifespan = reconciling(lifespan, Reconciler(service.github, service.queue, service.router),
                                   settings.reconcile_minutes * 60)
        access = Access(settings.dashboard_private, settings.dashboard_password)
        own_port = settings.dashboard and settings.dashboard_port > 0
        web = create_app(settings.webhook_secret, service.queue, service.router, lifespan, store=service.store,
                         dashboard=settings.dashboard and not own_port, dashboard_access=access)
        raise_descriptor_limit()
        if own_port:  # page views then share nothing with the webhook: not its port, threads, event loop or GIL
            dashboard = multiprocessing.get_context("spawn").Process(
                target=serve_dashboard, args=(settings.data_dir, settings.database_url, host, settings.dashboard_port,
                                             access),
                name="taxonomist-dashboard", daemon=True)
            dashboard.start()
        uvicorn.run(web, host=host, port=port, **serve_options())
    finally:
        if model is not None:
            stop_model_worker(model)


def serve_dashboard(data_dir: Path, database_url: str, host: str, port: int, access: Any) -> None:
    """The dashboard alone, in its own process (`TAXONOMIST_DASHBOARD_PORT`), over the bot's store."""
    import os
    import threading
    import time

    import uvicorn
    from starlette.applications import Starlette

    from bot.dashboard import web
    from bot.dashboard.store import Store
    from bot.service.app import serve_options

    parent = os.getppid()

    def follow_parent() -> None:  # `bot serve` gone however it went (even SIGKILL): so is its dashboard
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=follow_parent, name="taxonomist-dashboard-parent", daemon=True).start()
    store = Store.open(data_dir, database_url)
    uvicorn.run(Starlette(routes=web.routes(store, access=access)), host=host, port=port, **serve_options())


@app.command("worker", cls=Command)
def worker_command(
    config: ConfigOption = None,
    queue: Annotated[WorkerQueue, typer.Option(
        "--queue", "-q", help="Which jobs to take: triage (triage and review), model (precheck, /generate) "
                              "or all.")] = WorkerQueue.all,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", min=1, help="Worker threads per queue taken (default: TAXONOMIST_WORKERS for "
                                       "triage, TAXONOMIST_MODEL_WORKERS for model, else 1).")] = None,
) -> None:
    """Run queue workers alone (scale-out: any number of them against one Redis queue). Model jobs run
    only on a worker that takes the model queue, never on a triage worker.

    Example: TAXONOMIST_QUEUE_URL=redis://localhost:6379/0 taxonomist bot worker --queue triage --workers 4
    """
    from bot.service.jobs import MODEL_QUEUE, TRIAGE_QUEUE

    settings = _settings(config, webhooks=False)
    service = _service(settings)
    wanted = (TRIAGE_QUEUE, MODEL_QUEUE) if queue is WorkerQueue.all else (queue.value,)
    defaults = {TRIAGE_QUEUE: settings.workers, MODEL_QUEUE: max(settings.model_workers, 1)}
    threads = {name: workers or defaults[name] for name in wanted}
    service.recorder.start_heartbeat(sum(threads.values()))
    service.queue.recover()
    service.queue.run_workers(threads)


@app.command("reconcile", cls=Command)
def reconcile_command(
    repo: Annotated[str | None, typer.Option("--repo", metavar="OWNER/NAME",
                                             help="Only this repository's open PRs (no delivery log).")] = None,
    config: ConfigOption = None,
) -> None:
    """Queue what GitHub never delivered: triage for open PRs whose head has no completed triage by this
    app, review for PRs with activity since the last walk, and redeliveries of failed deliveries in the
    app's delivery log. `bot serve` does this at start-up and every TAXONOMIST_RECONCILE_MINUTES; workers
    run the queued jobs. Prints what it did as JSON.

    Example: taxonomist bot reconcile --config bot.yml --repo octo-org/taxonomy
    """
    import dataclasses

    from github.GithubException import GithubException
    from requests import RequestException

    from bot.forges.github import GitHubApp
    from bot.reconcile.plan import repo_name
    from bot.reconcile.run import Reconciler
    from bot.service.handlers import load_handlers
    from bot.service.queue import make_queue

    settings = _settings(config, webhooks=False)
    if repo is not None and repo_name(repo) is None:
        raise fail(f"--repo: {repo!r} is not OWNER/NAME")
    router = load_handlers(app_id=int(settings.app_id))
    queue = make_queue(settings, router.queue_of)
    try:
        report = Reconciler(GitHubApp(settings), queue, router).run(repo)
    except GithubException as exc:
        raise fail(f"GitHub answered {exc.status}: {exc.message or 'no message'}") from None
    except RequestException as exc:
        raise fail(f"{settings.github_api_url}: {type(exc).__name__}") from None
    typer.echo(json.dumps(dataclasses.asdict(report)))


@app.command("announce-build", cls=Command)
def announce_build_command(
    build_dir: Annotated[Path, typer.Argument(help="A published build folder (its build.json names the PRs).")],
    repo: Annotated[str, typer.Option("--repo", help="owner/name of the taxonomy repository.")],
    config: Annotated[Path | None, typer.Option("--config", help="Bot config file (else environment).")] = None,
) -> None:
    """Comment on each merged PR whose content went into the build and label it community-build-ready.

    Exit status 1, naming them, when some PRs could not be announced (the others still are).

    Example: taxonomist bot announce-build build --repo my-org/taxonomy --config bot.yml
    """
    from bot.announce.run import AnnounceError, announce
    from bot.forges.github import GitHubApp

    try:
        result = announce(GitHubApp(_settings(config, webhooks=False)).forge(repo, None), build_dir)
    except AnnounceError as exc:
        raise fail(str(exc)) from None
    typer.echo(json.dumps({"announced": result.announced, "failed": result.failed}))
    if result.failed:
        reasons = "; ".join(f"#{number}: {reason}" for number, reason in result.failed.items())
        typer.echo(f"taxonomist bot: announce-build: {len(result.failed)} pull request(s) of {repo} not announced "
                   f"({reasons})", err=True)
        raise typer.Exit(1)


DataDirOption = Annotated[Path, typer.Option("--data-dir", envvar="TAXONOMIST_DATA_DIR",
                                             help="The bot's data directory (its store).")]
DatabaseUrlOption = Annotated[str, typer.Option("--database-url", envvar="TAXONOMIST_DATABASE_URL",
                                                help="The bot's PostgreSQL store (postgresql://...) when several "
                                                     "machines share one; else SQLite in --data-dir.")]


@app.command("record-build", cls=Command)
def record_build_command(
    build_dir: Annotated[Path, typer.Argument(help="A build folder (its build.json).")],
    data_dir: DataDirOption = Path(".taxonomist"),
    database_url: DatabaseUrlOption = "",
    report_url: Annotated[str, typer.Option("--report-url", help="Where people read the build's report.")] = "",
) -> None:
    """Show a weekly build on the dashboard (status, gate, leaves in and out); a build that did not go out
    stops the stale clocks until one does.

    Example: taxonomist bot record-build build --report-url https://builds.example.org/2026-48/
    """
    from bot.dashboard.builds import BuildRecordError, build_row

    try:
        row = build_row(build_dir, report_url)
    except BuildRecordError as exc:
        raise fail(str(exc)) from None
    _store(data_dir, database_url).record_build(row)
    typer.echo(json.dumps({"build": row.id, "status": row.status, "gate": row.gate}))


@app.command("pause-build", cls=Command)
def pause_build_command(
    reason: Annotated[str, typer.Argument(help="Why the weekly build is paused (shown on the dashboard).")],
    data_dir: DataDirOption = Path(".taxonomist"),
    database_url: DatabaseUrlOption = "",
) -> None:
    """Mark the weekly build paused: stale clocks stop until the next build is recorded.

    Example: taxonomist bot pause-build
    """
    from bot.dashboard.builds import paused_row

    _store(data_dir, database_url).record_build(paused_row(reason))


@app.command("stale-sweep", cls=Command)
def stale_sweep_command(
    repo: Annotated[str, typer.Option("--repo", help="owner/name of the taxonomy repository.")],
    config: ConfigOption = None,
) -> None:
    """Warn, then label `stale`, open PRs without activity (run it from cron or a scheduled workflow).

    Example: taxonomist bot stale-sweep --repo my-org/taxonomy --config bot.yml
    """
    from bot.forges.github import GitHubApp
    from bot.lifecycle.handler import stale_sweep

    settings = _settings(config, webhooks=False)
    done = stale_sweep(GitHubApp(settings).forge(repo, None), _service(settings).store)
    typer.echo(json.dumps(done))


@app.command("dashboard-demo", cls=Command)
def dashboard_demo_command(
    host: Annotated[str, typer.Option("--host", show_default=False,
                                      help="Address to listen on (default: 127.0.0.1).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", show_default=False, help="Port to listen on (default: 8080).")] = 8080,
    prs: Annotated[int, typer.Option("--prs", min=1, show_default=False,
                                     help="Open PRs in the world, corpus PRs first (default: 40).")] = 40,
    corpus: Annotated[Path | None, typer.Option("--corpus", envvar="TAXONOMIST_CORPUS",
                                                help="The real-world corpus, for real upstream PRs.")] = None,
) -> None:
    """Serve the dashboard over a seeded local world: no GitHub, no network, nothing kept afterwards.

    Example: taxonomist bot dashboard-demo --port 8000
    """
    import tempfile
    import time

    import uvicorn
    from starlette.applications import Starlette

    from bot.dashboard import web
    from bot.dashboard.demo import build_world

    with tempfile.TemporaryDirectory(prefix="taxonomist-dashboard-") as tmp:
        store = build_world(Path(tmp), corpus, prs, time.time())
        typer.echo(f"dashboard on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
        uvicorn.run(Starlette(routes=web.routes(store)), host=host, port=port, log_level="warning")
