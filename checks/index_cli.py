"""`taxonomist index build PATH... --out INDEX`: the embedding index `taxonomist check --against` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from checks.cli import Command, Group

app = typer.Typer(help="Build the embedding index the duplicate check compares contributions with.\n\n"
                       "Example: taxonomist index build ../taxonomy --out base.npz",
                  no_args_is_help=True, cls=Group)


@app.command("build", cls=Command)
def build(
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH", help="Taxonomy checkouts, folders or qna.yaml files to index.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="INDEX", help="The index file to write (.npz).")],
    origin: Annotated[str, typer.Option(
        "--origin", metavar="LABEL", show_default=False,
        help="Label for these leaves, such as base or pr/123: the bot uses it to leave a PR out "
             "(default: base).")] = "base",
    fresh: Annotated[bool, typer.Option(
        "--fresh", help="Start empty instead of updating the existing INDEX.")] = False,
) -> None:
    """Index every leaf under PATH; with an existing INDEX only new or changed texts are embedded.

    Example: taxonomist index build ../taxonomy --out base.npz
    """
    import time

    from checks.cli import fail
    from checks.discovery import DiscoveryError, expand
    from checks.index import EmbeddingIndex, IndexFileError
    from checks.sources import DiskSource

    try:
        files = expand(paths)
        index = EmbeddingIndex.load(out) if out.exists() and not fresh else EmbeddingIndex()
    except (DiscoveryError, IndexFileError) as exc:
        raise fail(str(exc)) from None
    started = time.perf_counter()
    before = index.embedded_texts()
    problems = index.update((DiskSource(f) for f in files), origin=origin)
    for problem in problems:
        typer.echo(f"skipped {problem}", err=True)
    index.save(out)
    typer.echo(f"{out}: {len(index)} leaves, {index.embedded_texts() - before} texts embedded, "
               f"{time.perf_counter() - started:.1f} s")
