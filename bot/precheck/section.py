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
MAX_ROWS = 40  # questions shown in all: 40 rows of four cut cells stay far below GitHub's 65536 characters
SECTION_LIMIT = 50_000  # characters: files past this are counted, not listed


def cell(text: object, limit: int = CELL_LIMIT) -> str:
    """Text from the PR or a model in a table cell: `bot.comment.sticky.escape`, cut shorter."""
    return escape(text, limit=limit)


VERDICT_WORDS = {"known": "**known**: the model already answers this correctly",
                 "partly-known": "**partly-known**: the model answers some of it correctly",
                 "new": "**new**: the model does not answer this yet",
                 "not-asked": "**not asked** on this push (the question cap or the time budget)"}


def render_section(result: dict[str, Any], head_sha: str) -> str:
    """The collapsed section: per file its verdict, then each question with both answers and why it was
    graded so (the facts matched and missed), the rule in one line, and how many questions were asked."""
    from pipeline.evaluate.precheck import explain

    files = result["files"]
    counts = {v: sum(f["verdict"] == v for f in files) for v in VERDICT_WORDS}
    verdicts = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    out = ["<details>", f"<summary>Precheck at <code>{head_sha[:7]}</code>: {verdicts}</summary>", "",
           f"The current model ({cell(result['model'], limit=120)}) answered {result.get('asked', 0)} of the "
           f"{result.get('seeds', 0)} seed questions (at most {result.get('max_questions', '?')} a push; knowledge "
           "questions without their document). An answer is graded by the facts of the contributor's answer it "
           "holds.", "", f"Rule: {cell(result.get('rule', ''), limit=400)}", ""]
    room = MAX_ROWS
    for n, f in enumerate(files):
        if sum(len(line) + 1 for line in out) > SECTION_LIMIT:
            out += [f"…and {len(files) - n} more files, not shown (the comment's size limit).", ""]
            break
        out += [f"#### {cell(f['path'], limit=200)}: {VERDICT_WORDS.get(f['verdict'], cell(f['verdict'], 40))}", ""]
        if not f["examples"] or not room:
            continue
        out += ["| Question | Contributor's answer | Model's answer | Grade |", "| --- | --- | --- | --- |"]
        for ex in f["examples"][:room]:
            out.append(f"| {cell(ex['question'])} | {cell(ex['answer'])} | "
                       f"{cell(ex['model_answer'])} | {cell(explain(ex['grade']))} |")
        if len(f["examples"]) > room:
            out.append(f"…and {len(f['examples']) - room} more questions, not shown (the comment's size limit).")
        room = max(0, room - len(f["examples"]))
        out.append("")
    out.append("</details>")
    return "\n".join(out)


def _share(question: dict[str, Any], side: str) -> str:
    """A postcheck answer's fact recall as a percentage; a build.json older than the score has similarity."""
    value = question.get(f"{side}_facts")
    if isinstance(value, int | float):
        return f"{value:.0%}"
    return f"similarity {float(question.get(f'{side}_similarity') or 0):.2f}"


def render_postcheck(entries: list[dict[str, Any]]) -> str:
    """The postcheck table of one merged PR (`build.json`'s `postcheck.prs[N]`): each of its leaves'
    questions answered by the previous model and the new build, with the scores and the gate's verdict."""
    out = ["<details>", "<summary>Your questions, answered by the previous model and by this build</summary>", ""]
    room = MAX_ROWS
    for entry in entries:
        out += [f"#### {cell(entry.get('leaf'), limit=200)}: {cell(entry.get('status'), limit=20)}, "
                f"gate verdict **{cell(entry.get('verdict'), limit=20)}**", "",
                "| Question | Your answer | Previous model | This build | Facts held before → after |",
                "| --- | --- | --- | --- | --- |"]
        questions = entry.get("questions", [])
        for q in questions[:room]:
            held = " (held out)" if q.get("heldout") else ""
            out.append(f"| {cell(q.get('question'))}{held} | {cell(q.get('answer'))} | "
                       f"{cell(q.get('before'))} | {cell(q.get('after'))} | "
                       f"{_share(q, 'before')} → {_share(q, 'after')} |")
        if len(questions) > room:
            out.append(f"…and {len(questions) - room} more questions, not shown (the comment's size limit).")
        room = max(0, room - len(questions))
        out.append("")
    out += ["Held-out questions were never trained on: they show what the build learned, not what it memorised.",
            "</details>"]
    return "\n".join(out)
