"""`bot.comment.sticky`: the comment's sections, splicing, the upsert, and fitting GitHub's limits."""

from __future__ import annotations

import pytest

from bot.comment.sticky import MARKER, compose, fit, sections_of, splice, upsert


class Comments:
    """The comment methods of a forge, recording what was written."""

    def __init__(self, body: str | None = None) -> None:
        self.bodies = {1: body} if body is not None else {}
        self.writes = 0

    def find_comment(self, number: int, marker: str) -> tuple[int, str] | None:
        return next(((i, b) for i, b in self.bodies.items() if b.startswith(marker)), None)

    def create_comment(self, number: int, body: str) -> int:
        self.writes += 1
        self.bodies[len(self.bodies) + 1] = body
        return len(self.bodies)

    def edit_comment(self, comment_id: int, body: str) -> None:
        self.writes += 1
        self.bodies[comment_id] = body


def test_sections_come_back_as_they_went_in_in_a_fixed_order() -> None:
    body = compose({"review": "- LGTM 0/2", "triage": "**No problems.**", "precheck": "known"})
    assert body.startswith(MARKER)
    assert body.index("## Taxonomist triage") < body.index("### Model precheck") < body.index("### Review")
    assert sections_of(body) == {"triage": "**No problems.**", "precheck": "known", "review": "- LGTM 0/2"}


def test_splice_replaces_one_section_and_keeps_the_others() -> None:
    body = compose({"triage": "t", "review": "r1"})
    spliced = splice(body, "review", "r2")
    assert sections_of(spliced) == {"triage": "t", "review": "r2"}
    assert splice(spliced, "review", "r2") == spliced
    assert sections_of(splice(spliced, "review", None)) == {"triage": "t"}


def test_unknown_sections_are_refused() -> None:
    with pytest.raises(ValueError, match="'summary'"):
        compose({"summary": "x"})


def test_a_comment_written_before_sections_had_markers_keeps_its_triage_part() -> None:
    old = f"{MARKER}\n## Taxonomist triage\n\n**1 error**\n\n### Review\n\n<!-- taxonomist:review -->\n- LGTM 1/2\n"
    assert sections_of(old) == {"triage": "**1 error**"}


def test_upsert_creates_once_then_edits_only_its_sections() -> None:
    forge = Comments()
    upsert(forge, 7, {"triage": "t"})
    upsert(forge, 7, {"precheck": "p"})
    upsert(forge, 7, {"precheck": "p"})  # unchanged: no write
    assert forge.writes == 2 and len(forge.bodies) == 1
    assert sections_of(forge.bodies[1]) == {"triage": "t", "precheck": "p"}


def test_fit_cuts_at_a_line_and_says_so() -> None:
    text = "\n".join(f"line {i}" for i in range(10_000))
    cut = fit(text, 1000, "the rest is in the check run.")
    assert len(cut.encode()) <= 1000 and cut.endswith("the rest is in the check run.\n")
    assert "**Cut here:**" in cut and cut.splitlines()[0] == "line 0"
    assert fit("short", 1000, "x") == "short"
