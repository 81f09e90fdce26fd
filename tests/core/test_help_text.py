"""Every command's help at 80 columns, as a newcomer reads it (issue 25): words, not Python types; one
default style; examples that run as written; nothing cut off."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from taxonomist.cli import app

PYTHON_TYPES = re.compile(r"<(?:list|int|float|str|bool|path|text)\b|list\[|\[x[<>]=|\{[\w.]+\}|<\w+\|")


def commands(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, command) for `taxonomist` and every sub-command under it, hidden routing names left out."""
    command = command or typer.main.get_command(app)
    yield path, command
    for name in getattr(command, "list_commands", lambda _: [])(None):
        sub = command.get_command(None, name)
        if not getattr(sub, "hidden", False):
            yield from commands(sub, (*path, name))


ALL = sorted(path for path, _ in commands())


def help_at_80(path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr("typer.rich_utils.MAX_WIDTH", 80)  # read from TERMINAL_WIDTH once, at typer's import
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "taxonomist")
def test_help_has_no_python_types_one_default_style_and_nothing_cut(path: tuple[str, ...],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    text = help_at_80(path, monkeypatch)
    assert not PYTHON_TYPES.search(text), PYTHON_TYPES.search(text)
    assert "Default:" not in text and "[default:" not in text  # "(default: X)", one style
    assert "\u2026" not in text  # no word cut off by the table
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "taxonomist")
def test_examples_name_every_required_option_and_differ(path: tuple[str, ...],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    command = dict(commands())[path]
    examples = [line.split("Example:", 1)[1].strip() for line in (command.help or "").splitlines()
                if "Example:" in line]
    assert len(set(examples)) == len(examples)
    required = [p.opts[0] for p in command.params if p.required and getattr(p, "param_type_name", "") == "option"]
    for example in examples:
        words = shlex.split(example)
        assert all(option in words for option in required), (example, required)


def test_build_help_reads_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole build's options leave a column wide enough to read (it was 18 characters, 157 lines)."""
    text = help_at_80(("build",), monkeypatch)
    widths = [len(cell.strip()) for line in text.splitlines() if line.startswith("\u2502 --")
              for cell in [line.rstrip(" \u2502").split("  ")[-1]]]
    assert len(text.splitlines()) <= 130 and max(widths) >= 28
    assert "(at least 1) (default: 20)" in " ".join(text.replace("\u2502", " ").split())


def test_dry_run_format_is_described(monkeypatch: pytest.MonkeyPatch) -> None:
    words = " ".join(help_at_80(("bot", "dry-run"), monkeypatch).replace("\u2502", " ").split())
    assert "text|json text: the check run" in words
