"""Small builders for core tests: a taxonomy on disk with the files a test needs."""

from __future__ import annotations

import textwrap
from pathlib import Path

SKILL_V3 = """\
version: 3
created_by: tester
task_description: Turn a sentence into its passive form.
seed_examples:
  - question: Make this passive - The cat chased the mouse.
    answer: The mouse was chased by the cat.
  - question: Make this passive - Maria wrote the letter.
    answer: The letter was written by Maria.
  - question: Make this passive - The storm damaged the roof.
    answer: The roof was damaged by the storm.
  - question: Make this passive - Engineers built the bridge.
    answer: The bridge was built by engineers.
  - question: Make this passive - The chef cooked the meal.
    answer: The meal was cooked by the chef.
"""


def knowledge_v3(contexts: int = 5, questions: int = 3, commit: str = "a" * 40,
                 repo: str = "https://github.com/example/docs") -> str:
    lines = ["version: 3", "created_by: tester", "domain: geography",
             "document_outline: Facts about rivers.", "seed_examples:"]
    for c in range(contexts):
        lines += [f"  - context: River {c} flows into the sea after a long journey through the hills.",
                  "    questions_and_answers:"]
        for q in range(questions):
            lines += [f"      - question: Question {q} about river {c}?", f"        answer: Answer {q}."]
    lines += ["document:", f"  repo: {repo}", f"  commit: {commit}", "  patterns:", "    - rivers.md"]
    return "\n".join(lines) + "\n"


def write_leaf(root: Path, leaf: str, text: str, attribution: str | None = "Title: test\nLicense: CC-BY-4.0\n",
               name: str = "qna.yaml") -> Path:
    """Write `leaf/qna.yaml` (and `attribution.txt` unless None) under `root`; return the qna path."""
    folder = root / leaf
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
    if attribution is not None:
        (folder / "attribution.txt").write_text(attribution, encoding="utf-8")
    return path
