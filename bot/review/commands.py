"""Review commands in PR comments: `/lgtm`, `/approve`, `/hold`, ... one per line.

A command is a line of its own that starts with `/`, anywhere in the comment. Quoted lines
(`> /lgtm`, someone citing a command), fenced and indented code blocks and HTML comments are
skipped, so quoting or documenting a command never runs it. Names and `cancel` are read
case-insensitively; label names keep their case. A `/word` that is not a command, or a command
with arguments it does not take, is reported as a problem so the bot can answer instead of
staying silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.comment.sticky import escape


class Name(StrEnum):
    LGTM = "lgtm"
    APPROVE = "approve"
    HOLD = "hold"
    RECHECK = "recheck"
    LABEL = "label"
    REMOVE_LABEL = "remove-label"
    HELP = "help"
    GENERATE = "generate"  # run by bot.generate.handler; the review state ignores it


CANCELLABLE = frozenset({Name.LGTM, Name.APPROVE, Name.HOLD})
TAKES_LABELS = frozenset({Name.LABEL, Name.REMOVE_LABEL})


@dataclass(frozen=True, slots=True)
class Command:
    name: Name
    cancel: bool = False
    labels: tuple[str, ...] = ()
    line: int = 0  # 1-based line in the comment body

    def __str__(self) -> str:
        tail = " cancel" if self.cancel else "".join(f" {label}" for label in self.labels)
        return f"/{self.name}{tail}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A line that looks like a command but is not one: the bot replies with `message`."""

    text: str
    message: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class Parsed:
    commands: tuple[Command, ...] = ()
    problems: tuple[Problem, ...] = ()


_WORD = re.compile(r"/[A-Za-z][A-Za-z0-9_-]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


def _visible_lines(body: str) -> list[tuple[int, str]]:
    """(line number, text) of the lines that are neither code, quotes nor HTML comments."""
    # Blank out HTML comments but keep their newlines, so line numbers stay true.
    body = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), body)
    visible: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(body.splitlines(), start=1):
        opener = _FENCE.match(line)
        if fence is not None:
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = None
            continue
        if opener:
            fence = opener.group(1)
            continue
        if line.startswith(("    ", "\t")) or line.lstrip().startswith(">"):
            continue
        visible.append((number, line.strip()))
    return visible


def _parse_line(number: int, text: str) -> Command | Problem | None:
    tokens = text.split()
    if not tokens or not _WORD.fullmatch(tokens[0]):
        return None
    word, args = tokens[0][1:].lower(), tokens[1:]
    try:
        name = Name(word)
    except ValueError:
        return Problem(text, f"`/{word}` is not a command I know; `/help` lists them.", number)
    if name in TAKES_LABELS:
        if not args:
            return Problem(text, f"`/{name}` needs a label name, e.g. `/{name} triage-approved`.", number)
        return Command(name, labels=tuple(args), line=number)
    if not args:
        return Command(name, line=number)
    if name in CANCELLABLE and len(args) == 1 and args[0].lower() == "cancel":
        return Command(name, cancel=True, line=number)
    usage = f"`/{name}` or `/{name} cancel`" if name in CANCELLABLE else f"`/{name}`"
    return Problem(text, f"{escape(text, code=True)} not understood: write {usage} on a line of its own.", number)


def parse(body: str | None) -> Parsed:
    """The commands and near-commands of one comment body, in the order they appear."""
    commands: list[Command] = []
    problems: list[Problem] = []
    for number, text in _visible_lines(body or ""):
        parsed = _parse_line(number, text)
        if isinstance(parsed, Command):
            commands.append(parsed)
        elif isinstance(parsed, Problem):
            problems.append(parsed)
    return Parsed(tuple(commands), tuple(problems))


HELP_TEXT = """\
**Review commands** (each on a line of its own in a PR comment; quoted lines and code blocks \
are ignored):

| Command | Who | What it does |
|---|---|---|
| `/lgtm` | maintainers, not the PR's author | counts one LGTM for the current head commit; a push drops it |
| `/lgtm cancel` | whoever gave the LGTM | withdraws your LGTM |
| `/approve` | approvers, not the PR's author | approves: merges once enough LGTMs are on the head, \
nothing holds it and the triage check passed |
| `/approve cancel` | whoever approved | withdraws your approval |
| `/hold` | anyone | blocks merging until you cancel it |
| `/hold cancel` | whoever held it; maintainers and approvers lift every hold | lifts the hold |
| `/recheck` | the PR's author, maintainers, approvers, triagers | runs the triage checks again |
| `/label NAME` | triagers | adds an allowed label (one `triage-*` label at a time) |
| `/remove-label NAME` | triagers | removes an allowed label |
| `/generate` | triagers, maintainers, approvers | previews the training data the PR's leaves \
would give (check run `taxonomist/generate`) |
| `/help` | anyone | shows this table |

An approving review counts as `/lgtm`; a review requesting changes withdraws the reviewer's \
LGTM. Editing a comment replaces its commands (they keep the comment's original time); \
deleting it withdraws them.
"""
