"""The bot's one sticky comment on a PR, and the one way user text reaches GitHub.

The comment starts with `MARKER` and holds named sections in a fixed order (`SECTIONS`): the
triage report, the model precheck, the review state. Each section starts with its own hidden
marker line, so one writer replaces its section without touching the others: triage renders
its section and the review section it is handed; the review workflow splices only its own;
precheck fills its slot. `upsert` finds the comment (this app's own only, `Forge.find_comment`),
splices and edits it, or creates it; the same for any marked comment (replies, announcements).

`escape` is the single function every piece of user text (paths, keys, messages, titles,
logins, commit subjects, model answers) passes through on its way into a comment, a check run or
an annotation: it cannot ping anyone, add HTML or a marker, break a table, start a line that reads
as a command, link anywhere or cross-reference an issue (bare URLs, `www.` links, `owner/repo#N`,
`#N` and `GH-N` become code spans), hide text (invisible, bidi and tag characters are removed:
`visible`, which the dashboard applies to everything it renders), or run past `FRAGMENT_LIMIT`.
`fit` keeps whole texts within GitHub's limits and says what was cut.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Literal, Protocol

from checks.excerpt import excerpt

MARKER = "<!-- taxonomist:triage -->"
SECTIONS = ("verdict", "triage", "precheck", "review")  # their order in the comment
# The verdict is the one line a reader sees first, so it has no heading.
HEADINGS = {"verdict": "", "triage": "## Taxonomist triage", "precheck": "### Model precheck",
            "review": "### Review"}
COMMENT_LIMIT = 65536  # GitHub's limit for an issue comment body
CHECK_RUN_LIMIT = 65535  # GitHub's limit for a check run's output summary and text
FRAGMENT_LIMIT = 1000  # one piece of user text: a path, a key, a message
SMALL_SECTION_SHARE = 4  # precheck and review get at most a quarter of the comment each; triage the rest

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # shown as a space: text stays on one line
# Shown as nothing, or reorder what is shown: soft hyphen, combining grapheme joiner, Arabic letter mark,
# Hangul fillers, Khmer inherent vowels, Mongolian vowel separator, zero-width and bidi marks, embeddings,
# overrides and isolates, invisible operators, variation selectors, byte order mark, interlinear annotation
# marks, and the tag block (E0000-E007F: invisible ASCII that some renderers still read out).
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
                        "\U000e0000-\U000e007f\U000e0100-\U000e01ef]")
# What GitHub would turn into a link or a cross-reference (which notifies the other issue)
_LINKY = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S+"
                    r"|\b[\w.-]+/[\w.-]+(?:#\d+|@[0-9a-f]{7,40})\b"
                    r"|(?<!\w)#\d+\b|\bGH-\d+\b", re.IGNORECASE)
_MARKDOWN = re.compile(r"([\\`|*_\[\]~])")
_SECTION = re.compile(r"^<!-- taxonomist:section:([a-z-]+) -->$", re.MULTILINE)
_NO_PING = "@\u200b"  # a zero-width space after @: shown as @name, never a mention


def visible(text: str) -> str:
    """`text` without the characters that show as nothing or reorder what is shown."""
    return _INVISIBLE.sub("", text)


def escape(text: object, *, code: bool = False, plain: bool = False, limit: int = FRAGMENT_LIMIT) -> str:
    """User text made harmless for GitHub, on one line and at most `limit` characters.

    Markdown (default): HTML and Markdown punctuation escaped, `@` broken so it never pings, a
    leading `/` broken so the line never reads as a command; balanced backtick pairs stay code
    spans, each re-fenced as `code=True` does (so a quoted key reads as code and cannot break out).
    `code=True`: an inline code span whose fence is longer than any backtick run inside (pipes
    escaped for tables, `@` broken; HTML inside a code span is shown as text). `plain=True`: for
    annotations, which GitHub shows as text: only made one line, visible and bounded."""
    one_line = excerpt(_CONTROL.sub(" ", visible(str(text))), limit)
    if plain:
        return one_line
    if code:
        fence = "`" * (max((len(run) for run in re.findall(r"`+", one_line)), default=0) + 1)
        pad = " " if one_line.startswith("`") or one_line.endswith("`") or not one_line else ""
        inner = one_line.replace("|", "\\|").replace("@", _NO_PING)
        return f"{fence}{pad}{inner}{pad}{fence}"
    parts = one_line.split("`")
    if len(parts) > 1 and len(parts) % 2:  # balanced `code` spans (as messages quote keys): each one re-fenced
        out = "".join(escape(part, code=True, limit=limit) if i % 2 else _markdown(part)
                      for i, part in enumerate(parts))
    else:
        out = _markdown(one_line)
    return "\u200b" + out if out.startswith(("/", "#", "+", "-", "=")) else out


def _markdown(text: str) -> str:
    """Markdown escaped; what GitHub would link (URLs, cross-references) as a code span, which it never links."""
    out, at = [], 0
    for link in _LINKY.finditer(text):
        out += [_punctuation(text[at:link.start()]), escape(link.group(), code=True)]
        at = link.end()
    return "".join([*out, _punctuation(text[at:])])


def _punctuation(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False)).replace("@", _NO_PING)


def fit(text: str, limit: int, rest: str) -> str:
    """`text` within `limit` UTF-8 bytes (GitHub counts at most that many characters), cut at a line
    and ending with a line that says how much was cut and where the rest is."""
    if len(text.encode()) <= limit:
        return text
    lines, kept, size = text.splitlines(keepends=True), [], 0
    note_room = 200 + len(rest.encode())
    for line in lines:
        size += len(line.encode())
        if size > limit - note_room:
            break
        kept.append(line)
    cut = len(text) - sum(len(line) for line in kept)
    return "".join(kept).rstrip("\n") + f"\n\n**Cut here:** {cut} more characters left out; {rest}\n"


def first_visible_line(body: str) -> str:
    """The first line a reader sees: hidden markers are skipped."""
    return next((line for line in body.splitlines() if line.strip() and not line.startswith("<!--")), "")


def section_marker(name: str) -> str:
    return f"<!-- taxonomist:section:{name} -->"


def sections_of(body: str) -> dict[str, str]:
    """The sections of a sticky comment's body, by name, each without its marker and heading."""
    found: dict[str, str] = {}
    parts = _SECTION.split(body)
    if len(parts) == 1 and body.startswith(MARKER):  # written before sections had markers: all triage
        old = body[len(MARKER):].split(f"\n{HEADINGS['review']}\n", 1)[0]
        parts = ["", "triage", old]
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        heading = HEADINGS.get(name, "")
        text = text.strip("\n")
        found[name] = text[len(heading):].strip("\n") if heading and text.startswith(heading) else text
    return found


def compose(sections: Mapping[str, str | None]) -> str:
    """The comment holding `sections` (empty ones left out) in their fixed order, within COMMENT_LIMIT.

    Precheck and review are kept whole up to a share each; triage, the long one, gets what is left
    (its full list is in the check run)."""
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise ValueError(f"unknown sticky comment section {sorted(unknown)[0]!r} (known: {', '.join(SECTIONS)})")
    share = COMMENT_LIMIT // SMALL_SECTION_SHARE
    texts = {n: fit(t.strip(), share, "see the pull request's checks.") for n, t in sections.items()
             if t and t.strip() and n != "triage"}
    overhead = len(MARKER) + sum(len(section_marker(n)) + len(HEADINGS[n]) + 8 for n in SECTIONS)
    room = COMMENT_LIMIT - overhead - sum(len(t.encode()) for t in texts.values())
    if sections.get("triage") and sections["triage"].strip():
        texts["triage"] = fit(sections["triage"].strip(), room,
                              "the full list is in the `taxonomist/triage` check run and its annotations.")
    out = [MARKER]
    for name in SECTIONS:
        if name in texts:
            heading = [HEADINGS[name], ""] if HEADINGS[name] else []
            out += [section_marker(name), *heading, texts[name], ""]
    return "\n".join(out).rstrip() + "\n"


def splice(body: str, name: str, text: str | None) -> str:
    """`body` (a sticky comment) with section `name` replaced by `text` (removed when None)."""
    sections: dict[str, str | None] = {**sections_of(body), name: text}
    return compose(sections)


class CommentForge(Protocol):
    """What `upsert` needs of a forge (`bot.forges.forge.Forge` has it)."""

    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None: ...

    def create_comment(self, number: int, body: str) -> int: ...

    def edit_comment(self, comment_id: int, body: str) -> None: ...


Found = tuple[int, str] | None | Literal["find"]  # (id, body) or None when the caller looked; "find": look


def upsert_comment(forge: CommentForge, number: int, marker: str, body: str, existing: Found = "find") -> bool:
    """This app's comment starting with `marker` made to read `body`: created once, edited in place
    afterwards, left alone when it already does. `existing` saves the lookup when the caller has it.
    Returns whether it was created."""
    existing = forge.find_comment(number, marker) if existing == "find" else existing
    body = fit(body, COMMENT_LIMIT, "the rest did not fit in one comment.")
    if existing is None:
        forge.create_comment(number, body)
        return True
    if existing[1] != body:
        forge.edit_comment(existing[0], body)
    return False


def upsert(forge: CommentForge, number: int, sections: Mapping[str, str | None], existing: Found = "find") -> str:
    """Set `sections` of the PR's sticky comment, keeping the others as they are; returns the body."""
    existing = forge.find_comment(number, MARKER) if existing == "find" else existing
    current: dict[str, str | None] = sections_of(existing[1]) if existing is not None else {}
    body = compose({**current, **sections})
    upsert_comment(forge, number, MARKER, body, existing)
    return body
