"""`taxonomist precheck PATH...`: the current model answers each file's seed questions (`pipeline.evaluate.precheck`).

Exit status: 0 when every file was prechecked, whatever the verdicts; 1 when some file could not be
read as a leaf (each is reported, the others still run); 2 when nothing could run (no such file, no
readable file, a bad configuration, a model that cannot be loaded or reached).
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.evaluate.precheck import DEFAULT_MAX_NEW_TOKENS


class PrecheckFormat(enum.StrEnum):
    text = "text"
    json = "json"


def precheck_command(
    paths: Annotated[list[str], typer.Argument(help="qna.yaml files or folders to search for them.",
                                               show_default=False)],
    model: Annotated[str | None, typer.Option(
        "--model", metavar="FOLDER|URL", help="The model that answers: a model folder, a .gguf file, an "
        "OpenAI-compatible base URL or `default` (the embedded base student). Default: the newest published "
        "build in $TAXONOMIST_BUILDS, else `default`.")] = None,
    judge: Annotated[str | None, typer.Option(
        "--judge", metavar="URL|none", help="An OpenAI-compatible server that grades answers without facts to "
        "check (writing tasks) correct, partly or wrong against the contributor's, with its rationale "
        "(default: none: by similarity with the question's words taken out).")] = None,
    schema_version: Annotated[str | None, typer.Option(
        "--schema-version", metavar="VERSION",
        help="Schema to read the files with, as for `check`: latest, own (each file's `version:`, for v1 and v2 "
             "files) or a number (default: the config's, else latest).")] = None,
    output_format: Annotated[PrecheckFormat, typer.Option("--format", "-f", help="Output format.")
                             ] = PrecheckFormat.text,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE", help="Repository configuration with the `precheck:` thresholds (default: "
        ".github/taxonomist.yml at the taxonomy root).")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1, help="Longest answer, in tokens.")
                              ] = DEFAULT_MAX_NEW_TOKENS,
) -> None:
    """Ask the current model the seed questions: is the contribution `known`, `partly-known` or `new`?

    Example: taxonomist precheck compositional_skills/writing/haiku --format json
    """
    from checks.cli import parse_schema_version
    from checks.config import CONFIG_PATH, ConfigError, load_config
    from checks.discovery import DiscoveryError, expand, find_taxonomy_root
    from checks.sources import DiskSource
    from pipeline.evaluate.precheck import PrecheckError, precheck, read_seeds, render_text
    from pipeline.models import offline_env

    offline_env()
    mode = parse_schema_version(schema_version)
    try:
        files = expand(paths)
        if not files:
            raise PrecheckError(f"{' '.join(paths)}: no qna.yaml file here")
        if config is not None and not config.is_file():
            raise PrecheckError(f"{config}: no such configuration file")
        repo_config = load_config(config or (find_taxonomy_root(paths) or Path.cwd()) / CONFIG_PATH)
        leaves, refused = read_seeds([DiskSource(f) for f in files], repo_config, schema_version=mode)
        for bad in refused:
            typer.echo(f"taxonomist precheck: {bad.message}", err=True)
        if not leaves:
            hint = "" if mode is not None else (" (files of an older schema, as in a merged taxonomy: "
                                                "--schema-version own)")
            raise PrecheckError(f"no file could be read as a leaf{hint}")
        typer.echo(f"taxonomist precheck: loading the model, then {len(leaves)} files", err=True)
        result = precheck(leaves, repo_config.precheck, model=model, judge=judge, max_new_tokens=max_new_tokens,
                          refused=refused, progress=lambda line: typer.echo(f"taxonomist precheck: {line}", err=True))
    except (PrecheckError, DiscoveryError, ConfigError, OSError) as exc:
        typer.echo(f"taxonomist precheck: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if output_format is PrecheckFormat.json
               else render_text(result), nl=output_format is PrecheckFormat.json)
    if refused:
        raise typer.Exit(1)
