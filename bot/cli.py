"""`taxonomist bot ...`: serve the GitHub App, run workers, or dry-run triage on a local repository.

Only typer and light modules at the top: heavy imports happen inside the commands.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bot.settings import Settings

app = typer.Typer(name="bot", help="The GitHub App: webhook service, workers, dry run.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)


class DryRunFormat(StrEnum):
    text = "text"
    json = "json"


def fail(message: str) -> typer.Exit:
    """Exit status 2 with a one-line reason, as `taxonomist check` does."""
    typer.echo(f"taxonomist bot: {message}", err=True)
    return typer.Exit(2)


def split_ids(values: list[str] | None) -> tuple[str, ...]:
    return tuple(n.strip() for v in values or () for n in v.split(",") if n.strip())


@app.command("dry-run")
def dry_run_command(
    repo: Annotated[Path, typer.Option("--repo", help="A local git checkout of the taxonomy.")] = Path("."),
    base: Annotated[str, typer.Option("--base", help="The branch the PR would merge into.")] = "main",
    head: Annotated[str, typer.Option("--head", help="The contribution's branch or commit.")] = "HEAD",
    output_format: Annotated[DryRunFormat, typer.Option("--format", "-f")] = DryRunFormat.text,
    body_file: Annotated[Path | None, typer.Option("--body-file", help="The PR description, from a file.")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Checks or groups to skip.")] = None,
    precheck_model: Annotated[str, typer.Option(
        "--precheck-model", metavar="auto|none|FOLDER|URL", help="The model that prechecks the contribution "
        "(auto: the newest build in $TAXONOMIST_BUILDS, else the embedded base student; none: no precheck)."
    )] = "auto",
) -> None:
    """Triage HEAD against BASE of a local repository and print the check run, comment and labels."""
    from bot.dryrun import dry_run, effects, render_text
    from bot.localgit import GitError
    from checks.registry import SelectionError
    from pipeline.precheck import PrecheckError

    if not (repo / ".git").exists():
        raise fail(f"{repo}: not a git repository")
    try:
        body = body_file.read_text(encoding="utf-8") if body_file else ""
        found = effects(dry_run(repo.resolve(), base, head, body=body, skip=split_ids(skip),
                                precheck_model=precheck_model))
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
    from bot.logs import setup_logging
    from bot.settings import SettingsError, load_settings

    setup_logging()
    try:
        return load_settings(config_file=config, webhooks=webhooks)
    except SettingsError as exc:
        raise fail(str(exc)) from None


ConfigOption = Annotated[Path | None, typer.Option("--config", metavar="FILE",
                                                   help="Settings file (YAML); environment variables win.")]


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    config: ConfigOption = None,
    worker: Annotated[bool, typer.Option("--worker/--no-worker",
                                         help="Run worker threads in this process (off: queue only).")] = True,
) -> None:
    """Serve the webhook (POST /webhook, GET /healthz, GET /metrics), with an in-process worker by default."""
    import uvicorn

    from bot.app import create_app, worker_lifespan
    from bot.service import Service

    settings = _settings(config)
    service = Service(settings)
    lifespan = worker_lifespan(service.queue, settings.workers) if worker else None
    web = create_app(settings.webhook_secret, service.queue, service.router, lifespan)
    uvicorn.run(web, host=host, port=port, log_config=None, access_log=False)


@app.command("worker")
def worker_command(
    config: ConfigOption = None,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=1,
                                                help="Worker threads (default: TAXONOMIST_WORKERS, else 1).")] = None,
) -> None:
    """Run queue workers alone (scale-out: any number of them against one Redis queue)."""
    from bot.service import Service

    settings = _settings(config, webhooks=False)
    service = Service(settings)
    service.queue.recover()
    consumer = service.queue.huey.create_consumer(workers=workers or settings.workers,
                                                  worker_type="thread", periodic=False, initial_delay=0.02,
                                                  backoff=1.5, max_delay=0.5)
    consumer.run()


@app.command("announce-build")
def announce_build_command(
    build_dir: Annotated[Path, typer.Argument(help="A published build folder (its build.json names the PRs).")],
    repo: Annotated[str, typer.Option("--repo", help="owner/name of the taxonomy repository.")],
    config: Annotated[Path | None, typer.Option("--config", help="Bot config file (else environment).")] = None,
) -> None:
    """Comment on each merged PR whose content went into the build and label it community-build-ready.

    Exit status 1, naming them, when some PRs could not be announced (the others still are)."""
    from bot.announce import AnnounceError, announce
    from bot.github_forge import GitHubApp

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
