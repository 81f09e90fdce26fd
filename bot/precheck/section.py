"""The precheck's section of the sticky comment (`bot.comment.sticky`, section "precheck"), and the postcheck.

A collapsed side-by-side table: per file its verdict, then each seed question with the
contributor's answer, the model's and their score. Triage keeps the section when it rewrites the
comment; the precheck job replaces it. Every text from the PR or the model goes through
`bot.comment.sticky.escape`, cut to CELL_LIMIT characters in a table cell.
"""

from __future__ import annotations

from typing import Any

from bot.comment.sticky import escape

CELL_LIMIT = 280  # characters of one answer shown in the table
MAX_ROWS = 40  # questions shown in all: 40 rows of three cut cells stay far below GitHub's 65536 characters


def cell(text: object, limit: int = CELL_LIMIT) -> str:
    """Text from the PR or a model in a table cell: `bot.comment.sticky.escape`, cut shorter."""
    return escape(text, limit=limit)


VERDICT_WORDS = {"known": "**known**: the model already answers this well",
                 "partly-known": "**partly-known**: the model answers some of it",
                 "new": "**new**: the model does not answer this yet"}


def render_section(result: dict[str, Any], head_sha: str) -> str:
    """The collapsed section: per file its verdict, then question, answers and score side by side."""
    files = result["files"]
    counts = {v: sum(f["verdict"] == v for f in files) for v in VERDICT_WORDS}
    verdicts = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    out = ["<details>", f"<summary>Precheck at <code>{head_sha[:7]}</code>: {verdicts}</summary>", "",
           f"The current model ({cell(result['model'], limit=120)}) answered each seed question. A high "
           "score means it already gives the contributor's answer.", ""]
    room = MAX_ROWS
    for f in files:
        out += [f"#### {cell(f['path'], limit=200)}: {VERDICT_WORDS.get(f['verdict'], f['verdict'])}", "",
                "| Question | Contributor's answer | Model's answer | Score |", "| --- | --- | --- | --- |"]
        for ex in f["examples"][:room]:
            judged = "" if ex.get("judge") is None else f", judge {ex['judge']}/5"
            out.append(f"| {cell(ex['question'])} | {cell(ex['answer'])} | "
                       f"{cell(ex['model_answer'])} | {ex['similarity']:.2f}{judged} |")
        if len(f["examples"]) > room:
            out.append(f"…and {len(f['examples']) - room} more questions, not shown (the comment's size limit).")
        room = max(0, room - len(f["examples"]))
        out.append("")
    out.append("</details>")
    return "\n".join(out)


def render_postcheck(entries: list[dict[str, Any]]) -> str:
    """The postcheck table of one merged PR (`build.json`'s `postcheck.prs[N]`): each of its leaves'
    questions answered by the previous model and the new build, with the scores and the gate's verdict."""
    out = ["<details>", "<summary>Your questions, answered by the previous model and by this build</summary>", ""]
    room = MAX_ROWS
    for entry in entries:
        out += [f"#### {cell(entry.get('leaf'), limit=200)}: {cell(entry.get('status'), limit=20)}, "
                f"gate verdict **{cell(entry.get('verdict'), limit=20)}**", "",
                "| Question | Your answer | Previous model | This build | Similarity before → after |",
                "| --- | --- | --- | --- | --- |"]
        questions = entry.get("questions", [])
        for q in questions[:room]:
            held = " (held out)" if q.get("heldout") else ""
            out.append(f"| {cell(q.get('question'))}{held} | {cell(q.get('answer'))} | "
                       f"{cell(q.get('before'))} | {cell(q.get('after'))} | "
                       f"{float(q.get('before_similarity') or 0):.2f} → {float(q.get('after_similarity') or 0):.2f} |")
        if len(questions) > room:
            out.append(f"…and {len(questions) - room} more questions, not shown (the comment's size limit).")
        room = max(0, room - len(questions))
        out.append("")
    out += ["Held-out questions were never trained on: they show what the build learned, not what it memorised.",
            "</details>"]
    return "\n".join(out)
