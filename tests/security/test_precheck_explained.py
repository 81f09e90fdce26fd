"""Issue 21.5: the precheck's explanation (facts matched and missed, a judge's rationale) is PR or model text:
escaped in the comment and the check run, and within their size limits."""

from __future__ import annotations

import re

from bot.precheck.run import SUMMARY_LIMIT, render_check_run
from bot.precheck.section import render_section

HOSTILE = "@octocat <img src=x onerror=alert(1)> | </details> [a](http://t.example/p.png)\n/approve"


def _result(text: str, files: int = 1, examples: int = 5) -> dict:
    grade = {"basis": "facts", "score": 0.0, "label": "wrong", "matched": [text], "half": [text],
             "missed": [text] * 3, "contradicted": [text], "rationale": text}
    return {"model": text, "asked": 5, "seeds": 5, "max_questions": 20, "rule": text,
            "files": [{"path": f"compositional_skills/x{n}/qna.yaml", "verdict": "new", "seeds": examples,
                       "asked": examples, "examples": [{"question": text, "answer": text, "model_answer": text,
                                                        "grade": grade} for _ in range(examples)]}
                      for n in range(files)]}


def test_facts_and_rationale_from_a_pr_or_a_judge_cannot_ping_inject_or_break_the_table() -> None:
    section = render_section(_result(HOSTILE), "a" * 40)
    outside = re.sub(r"(`+)(?:(?!\1).)+?\1", "", section)
    assert "@octocat" not in section and "<img" not in outside and "</details>" not in outside.rsplit("\n", 1)[0]
    assert "[a](http" not in section
    assert not any(line.lstrip().startswith("/approve") for line in section.splitlines())
    rows = [line for line in section.splitlines() if line.startswith("| ") and "onerror" in line]
    assert rows and all(len(re.findall(r"(?<!\\)\|", row)) == 5 for row in rows)  # four cells each


def test_the_explained_section_and_the_check_run_stay_within_their_limits() -> None:
    huge = _result("x" * 5000, files=400, examples=30)
    assert len(render_section(huge, "a" * 40)) < 60000
    summary = render_check_run(huge).summary
    assert len(summary) <= SUMMARY_LIMIT and "more files" in summary


def test_hostile_numbers_in_a_leaf_are_graded_not_a_traceback() -> None:
    from pipeline.evaluate.correctness import grade_all

    hostile = ["nine " * 400, "9" * 5000 + " metres", "1e400 km", "twenty-" * 300 + "one",
               "one hundred thousand million billion trillion " * 3, "99:99 o'clock on May 99, 99999"]
    grades = grade_all([{"question": "How many?", "answer": text} for text in hostile], hostile, similarity=None)
    assert [g.label for g in grades if g.basis == "facts"] and all(g.label in ("correct", "partly", "wrong")
                                                                  for g in grades)
