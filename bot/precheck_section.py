"""The precheck's section of the sticky comment: a collapsed side-by-side table, between its own markers.

Triage rewrites the comment on every push; the precheck job writes its section later (a separate,
lower-priority job). So the section lives between markers: triage keeps it (`keep_section`), the
precheck job replaces it (`with_section`). Every text from the PR or the model goes through
`escape_cell`: no mention pings, no HTML, no links or images, no pipes that break the table, no
marker, one line, cut to a length with a visible ellipsis.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.render import cell

START = "<!-- taxonomist:precheck -->"
END = "<!-- /taxonomist:precheck -->"
CELL_LIMIT = 280  # characters of one answer shown in the table
MAX_ROWS = 40  # questions shown in all: 40 rows of three cut cells stay far below GitHub's 65536 characters
_SECTION = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_MARKUP = re.compile(r"([\[\]!*_~`\\])")
VERDICT_WORDS = {"known": "**known**: the model already answers this well",
                 "partly-known": "**partly-known**: the model answers some of it",
                 "new": "**new**: the model does not answer this yet"}


def escape_cell(text: str, limit: int = CELL_LIMIT) -> str:
    """User or model text made inert inside a Markdown table cell (see the module docstring)."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[:limit - 1].rstrip() + "…"
    flat = _MARKUP.sub(r"\\\1", flat)
    flat = html.escape(flat, quote=False)
    flat = _MENTION.sub("@\u200b", flat)
    return cell(flat)


def section_of(body: str | None) -> str | None:
    """The precheck section in a comment body, markers included, if there is one."""
    found = _SECTION.search(body or "")
    return found.group(0) if found else None


def with_section(body: str, section: str | None) -> str:
    """`body` with its precheck section replaced by `section` (added at the end; None removes it)."""
    rest = _SECTION.sub("", body).rstrip() + "\n"
    return rest if not section else f"{rest}\n{section}\n"


def keep_section(new_body: str, old_body: str | None) -> str:
    """Triage's fresh comment with the precheck section the old comment had, until the next precheck."""
    return with_section(new_body, section_of(old_body))


def render_section(result: dict[str, Any], head_sha: str) -> str:
    """The collapsed section: per file its verdict, then question, answers and score side by side."""
    files = result["files"]
    counts = {v: sum(f["verdict"] == v for f in files) for v in VERDICT_WORDS}
    verdicts = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    out = [START, "<details>", f"<summary>Precheck at <code>{head_sha[:7]}</code>: {verdicts}</summary>", "",
           f"The current model ({escape_cell(result['model'], 120)}) answered each seed question. A high "
           "score means it already gives the contributor's answer.", ""]
    room = MAX_ROWS
    for f in files:
        out += [f"#### {escape_cell(f['path'], 200)}: {VERDICT_WORDS.get(f['verdict'], f['verdict'])}", "",
                "| Question | Contributor's answer | Model's answer | Score |", "| --- | --- | --- | --- |"]
        for ex in f["examples"][:room]:
            judged = "" if ex.get("judge") is None else f", judge {ex['judge']}/5"
            out.append(f"| {escape_cell(ex['question'])} | {escape_cell(ex['answer'])} | "
                       f"{escape_cell(ex['model_answer'])} | {ex['similarity']:.2f}{judged} |")
        if len(f["examples"]) > room:
            out.append(f"…and {len(f['examples']) - room} more questions, not shown (the comment's size limit).")
        room = max(0, room - len(f["examples"]))
        out.append("")
    out += ["</details>", END]
    return "\n".join(out)


def render_postcheck(entries: list[dict[str, Any]]) -> str:
    """The postcheck table of one merged PR (`build.json`'s `postcheck.prs[N]`): each of its leaves'
    questions answered by the previous model and the new build, with the scores and the gate's verdict."""
    out = ["<details>", "<summary>Your questions, answered by the previous model and by this build</summary>", ""]
    room = MAX_ROWS
    for entry in entries:
        out += [f"#### {escape_cell(str(entry.get('leaf')), 200)}: {escape_cell(str(entry.get('status')), 20)}, "
                f"gate verdict **{escape_cell(str(entry.get('verdict')), 20)}**", "",
                "| Question | Your answer | Previous model | This build | Similarity before → after |",
                "| --- | --- | --- | --- | --- |"]
        questions = entry.get("questions", [])
        for q in questions[:room]:
            held = " (held out)" if q.get("heldout") else ""
            out.append(f"| {escape_cell(str(q.get('question')))}{held} | {escape_cell(str(q.get('answer')))} | "
                       f"{escape_cell(str(q.get('before')))} | {escape_cell(str(q.get('after')))} | "
                       f"{float(q.get('before_similarity') or 0):.2f} → {float(q.get('after_similarity') or 0):.2f} |")
        if len(questions) > room:
            out.append(f"…and {len(questions) - room} more questions, not shown (the comment's size limit).")
        room = max(0, room - len(questions))
        out.append("")
    out += ["Held-out questions were never trained on: they show what the build learned, not what it memorised.",
            "</details>"]
    return "\n".join(out)
