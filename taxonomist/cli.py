"""The `taxonomist` command: one sub-command per part, each importing heavy libraries lazily."""

from __future__ import annotations

import typer

from checks.cli import check

app = typer.Typer(
    name="taxonomist",
    help="Review and build a community-grown LLM taxonomy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """Review and build a community-grown LLM taxonomy."""


app.command("check")(check)


def main() -> None:
    app()
