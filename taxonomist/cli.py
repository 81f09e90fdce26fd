"""The `taxonomist` command: one sub-command per part, each importing heavy libraries lazily."""

from __future__ import annotations

import typer

from bot.cli import app as bot_app
from checks.cli import Command, Group, check
from checks.index_cli import app as index_app
from pipeline.cli import app as build_app
from pipeline.evaluate.precheck_cli import precheck_command

app = typer.Typer(
    name="taxonomist",
    help="Review and build a community-grown LLM taxonomy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=Group,
)


@app.callback()
def root() -> None:
    """Review and build a community-grown LLM taxonomy."""


app.command("check", cls=Command)(check)
app.command("precheck", cls=Command)(precheck_command)
app.add_typer(index_app, name="index")
app.add_typer(build_app, name="build")
app.add_typer(bot_app, name="bot")


def main() -> None:
    app()
