"""`taxonomist check`: the checks from a shell, in CI and in pre-commit."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from typer.core import TyperCommand, TyperGroup

from checks.config import CONFIG_PATH, ConfigError, load_config
from checks.discovery import DiscoveryError, changed_since, expand, find_taxonomy_root, read_list
from checks.qna import parse_schema_mode
from checks.registry import NEEDS_CONTENT_EXTRA, SelectionError, content_installed

CONTENT_HINT = "the content checks need the `content` extra: pip install -c constraints.txt 'taxonomist[content]'"


class HelpWithoutFlagTypes:
    """Help in one style, for people rather than Python: no `<bool>` beside a flag (`--fresh`, `--help`: a
    flag takes no value), a word for each value (`N`, `PATH`, `TEXT`, `text|json`) instead of typer's
    Python types (`<list[str]>`, `<int range> [x>=1]`, `{paths}`), a range said in words ("at least 1"),
    and every default as "(default: X)" at the end of the option's help, never `[default: X]` or
    "Default: X."."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if not getattr(param, "_plain_help", False):
                _plain_help(param)
        return params


def _value_word(param: Any) -> str:
    """The word a value is shown as: the argument's name, the choices, N, NUMBER, PATH or TEXT."""
    if getattr(param, "param_type_name", "") == "argument":
        return (param.name or "value").upper().removesuffix("S")
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:
        return "TEXT"
    if descriptor.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in descriptor.choices or ())
    if descriptor.is_path:
        return "PATH"
    annotation = get_args(descriptor.annotation)[0] if descriptor.is_list else descriptor.annotation
    return {int: "N", float: "NUMBER"}.get(annotation, "TEXT")


def _range_words(param: Any) -> str:
    """`at least 1`, `from 0 to 1`: the range typer would print as `[x>=1]`."""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f"from {low} to {high}"
    return f"at least {low}" if low is not None else (f"at most {high}" if high is not None else "")


DEFAULT_SAID = re.compile(r"\s*(?:\(default:\s*(.+?)\)|Default:\s*(.+?))\.?\s*$", re.DOTALL)


def _plain_help(param: Any) -> None:
    """Once per parameter: its value word, then "help (range) (default: X)" in the one style."""
    param._plain_help = True
    help_text = (getattr(param, "help", None) or "").rstrip()
    default = ""
    if (said := DEFAULT_SAID.search(help_text)) is not None:
        help_text, default = help_text[:said.start()], said.group(1) or said.group(2)
    if getattr(param, "show_default", False) is True:
        param.show_default = False
        default = default or _default_text(param)
    if getattr(param, "is_flag", False):
        param.metavar = "" if param.metavar is None else param.metavar
    elif param.metavar is None:
        param.metavar = _value_word(param)
    # typer 0.29 renders help through these per-parameter methods; overridden on the instance (a typer that
    # renames them brings the Python types back, and tests/core/test_help_text.py fails).
    if getattr(param, "param_type_name", "") == "argument":
        word, many = param.metavar, "..." if param.nargs != 1 else ""
        param.display_type_rich = lambda ctx: None  # the name column already says it
        param._rich_display_name = lambda: f"{word}{many}"
        param._usage_display_name = lambda: f"{word}{many}" if param.required else f"[{word}]{many}"
    if (range_words := _range_words(param)) and hasattr(param, "_get_number_range_help_str"):
        param._get_number_range_help_str = lambda: None
        help_text = f"{help_text} ({range_words})"
    if default:
        help_text = f"{help_text} (default: {default})"
    if hasattr(param, "help"):
        param.help = help_text.strip() or None


def _default_text(param: Any) -> str:
    """How a default reads in help: a flag by the switch that is on, an enum by its value."""
    default = param.default
    if default is None or default == "" or default == () or default == []:
        return ""
    if getattr(param, "is_flag", False) and getattr(param, "secondary_opts", None):
        return param.opts[0] if default else param.secondary_opts[0]
    if getattr(param, "is_flag", False):
        return ""  # a lone flag is off unless given
    return str(getattr(default, "value", default))


class Command(HelpWithoutFlagTypes, TyperCommand):
    """A `taxonomist` command (`app.command(..., cls=Command)`)."""


class Group(HelpWithoutFlagTypes, TyperGroup):
    """A `taxonomist` command group (`typer.Typer(cls=Group)`)."""


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


def fail(message: str, command: str = "taxonomist") -> typer.Exit:
    """Exit status 2: the tool could not do its job. One line on stderr, `COMMAND: why`.

    Every `taxonomist` sub-command uses this one (`raise fail(...)`), so the contract holds alike.
    """
    typer.echo(f"{command}: {message}", err=True)
    return typer.Exit(2)


def parse_schema_version(value: str | None) -> str | int | None:
    """`--schema-version`, or exit status 2 saying what it takes."""
    if value is None:
        return None
    try:
        return parse_schema_mode(value)
    except ValueError as exc:
        raise fail(f"--schema-version: {exc}") from None


TEMPLATE_PATH = ".github/pull_request_template.md"


def load_index(path: Path | None) -> object | None:
    """The `--against` index (numpy and the model come in only when one is given)."""
    if path is None:
        return None
    from checks.index import EmbeddingIndex, IndexFileError

    try:
        return EmbeddingIndex.load(path)
    except IndexFileError as exc:
        raise fail(str(exc)) from None


def load_pr(path: Path | None, template: Path) -> object | None:
    """The `--pr` metadata, with the taxonomy's pull request template unless the JSON carries one."""
    if path is None:
        return None
    from checks.pr import PrError, PullRequest

    try:
        return PullRequest.load(path, template)
    except PrError as exc:
        raise fail(str(exc)) from None


def check(
    paths: Annotated[list[str] | None, typer.Argument(
        metavar="PATH", help="qna.yaml files, or folders to search for them (default: the current folder).",
        show_default=False)] = None,
    files_from: Annotated[str | None, typer.Option(
        "--files-from", metavar="FILE", help="Read paths to check from FILE, one a line ('-': stdin).")] = None,
    changed_since_ref: Annotated[str | None, typer.Option(
        "--changed-since", metavar="REF",
        help="Check contributions changed since the merge base with REF, untracked files included.")] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", metavar="FORMAT", show_default=False,
        help="Report format: text, json, github or sarif (default: text).")] = OutputFormat.text,
    schema_version: Annotated[str | None, typer.Option(
        "--schema-version", metavar="VERSION",
        help="Schema to validate against: latest, own (each file's `version:`) or a number "
             "(default: the config's, else latest).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", metavar="IDS", help="Run only these checks or groups (structural, content, pr); repeatable, "
                                      "comma-separated.")] = None,
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", metavar="IDS", help="Skip these checks or groups; repeatable, comma-separated.")] = None,
    config: Annotated[Path | None, typer.Option(
        "--config", metavar="FILE", help=f"Repository configuration (default: {CONFIG_PATH} at the taxonomy "
                                         "root).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE", help="Write the report to FILE (default: standard output).")] = None,
    against: Annotated[Path | None, typer.Option(
        "--against", metavar="INDEX", help="Compare contributions with this embedding index "
                                           "(`taxonomist index build`) for the duplicate check.")] = None,
    pr_file: Annotated[Path | None, typer.Option(
        "--pr", metavar="FILE", help="PR metadata as JSON ({body, commits, template}) for pr-template and dco "
                                     "(template default: .github/pull_request_template.md).")] = None,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", metavar="N", show_default=False,
        help="Worker processes for large runs (default: 0, one per core).")] = 0,
) -> None:
    """Check qna.yaml contributions. Exit status: 0 no error, 1 errors found, 2 could not check.

    Example: taxonomist check compositional_skills/writing/haiku --format json
    """
    from checks.formats import RENDERERS
    from checks.runner import Checker, default_jobs
    from checks.sources import DiskSource

    mode = parse_schema_version(schema_version)
    if jobs < 0:
        raise fail(f"--jobs must be 0 (one per core) or more, not {jobs}")
    try:
        given = list(paths or [])
        if files_from:
            given += read_list(files_from, sys.stdin.read() if files_from == "-" else None)
        if changed_since_ref:
            given += changed_since(changed_since_ref, Path.cwd())
        elif not given and not files_from:
            given = ["."]
        files = expand(given)
    except DiscoveryError as exc:
        raise fail(str(exc)) from None
    if not files:
        # Nothing found is not success (a wrong folder must not pass CI), unless nothing changed.
        if paths or not (changed_since_ref or files_from):
            raise fail(f"no qna.yaml under {' '.join(paths or ['.'])}")
        if files_from and not changed_since_ref:
            raise fail(f"no qna.yaml in the paths listed in {files_from}")
        typer.echo(f"taxonomist: no contribution changed since {changed_since_ref}: nothing to check", err=True)

    if config is None:
        root = find_taxonomy_root(given) or Path.cwd()
        config_path: Path | None = root / CONFIG_PATH
    else:
        if not config.is_file():
            raise fail(f"{config}: no such configuration file")
        config_path = config
    if not only and not content_installed():
        skip = [*(skip or []), *NEEDS_CONTENT_EXTRA]
        typer.echo(f"taxonomist: running the structural and pull request checks only; {CONTENT_HINT}", err=True)
    try:
        repo_config = load_config(config_path)
        index = load_index(against)
        pr = load_pr(pr_file, (find_taxonomy_root(given) or Path.cwd()) / TEMPLATE_PATH)
        checker = Checker(repo_config, only=only or (), skip=skip or (), schema_version=mode, index=index,
                          jobs=jobs or default_jobs())
    except (ConfigError, SelectionError) as exc:
        raise fail(str(exc)) from None
    except ModuleNotFoundError as exc:
        raise fail(f"{exc.name} is not installed: {CONTENT_HINT}") from None

    report = checker.check((DiskSource(f) for f in files), pr=pr)
    rendered = RENDERERS[output_format.value](report)
    if output is not None:
        output.write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    raise typer.Exit(1 if report.errors else 0)
