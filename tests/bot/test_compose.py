"""The compose file of docs/bot.md's several-machine deployment agrees with the CLI and the settings: every
bot command parses as `taxonomist bot ...` would, every TAXONOMIST_ variable is a setting, and the shape is
the one the distributed test runs (PostgreSQL, Redis, web processes without workers, a triage and a model
worker)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import typer
import yaml

from bot.cli import app
from bot.service.settings import ENV_PREFIX, Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "compose.yaml"


def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def test_the_shape_is_postgres_redis_two_web_processes_and_one_worker_per_queue() -> None:
    found = services()
    assert found["postgres"]["image"].startswith("postgres:") and found["redis"]["image"].startswith("redis:")
    bots = {name: s["command"] for name, s in found.items() if s.get("image") == "taxonomist"}
    webs = [c for c in bots.values() if c[0] == "serve"]
    assert len(webs) >= 2 and all("--no-worker" in c for c in webs)
    queues = sorted(c[c.index("--queue") + 1] for c in bots.values() if c[0] == "worker")
    assert queues == ["model", "triage"]


def test_every_command_parses_with_the_cli() -> None:
    cli = typer.main.get_command(app)
    for name, service in services().items():
        if service.get("image") != "taxonomist":
            continue
        command = [str(part) for part in service["command"]]
        sub = cli.commands[command[0]]  # type: ignore[attr-defined]
        context = sub.make_context(f"taxonomist bot {command[0]}", command[1:])  # raises on an unknown option
        assert context.params, name


def test_every_variable_is_a_setting_and_the_urls_name_the_services() -> None:
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)}
    found = services()
    for service in (s for s in found.values() if s.get("image") == "taxonomist"):
        env = service["environment"]
        assert set(env) <= known, set(env) - known
        assert env["TAXONOMIST_QUEUE_URL"].startswith("redis://redis:")
        assert env["TAXONOMIST_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env[
            "TAXONOMIST_DATABASE_URL"]
        assert set(service["depends_on"]) == {"postgres", "redis"}
