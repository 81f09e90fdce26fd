"""A scripted model for the precheck: it knows the answers it is given, and says something else otherwise."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.generate.teacher import Request, Teacher

UNRELATED = "Bananas are rich in potassium and grow in tropical climates."


class KnowingBackend:
    """Answers a question with the answer it `knows` for it (else `UNRELATED`); rates with `rating`."""

    def __init__(self, known: dict[str, str], rating: int = 4, identity: str = "scripted:knowing") -> None:
        self.known = known
        self.rating = rating
        self.identity = identity
        self.questions: list[str] = []

    def complete(self, request: Request) -> str:
        text = request.messages[-1]["content"]
        if "Reply in the form: Score: N" in text:
            return f"Score: {self.rating}"
        self.questions.append(text)
        return next((a for q, a in self.known.items() if text.endswith(q)), UNRELATED)


def knowing(known: dict[str, str], rating: int = 4) -> Teacher:
    return Teacher(KnowingBackend(known, rating), concurrency=1, retries=0)


def skill_yaml(pairs: list[tuple[str, str]], task: str = "Answer a question.") -> str:
    lines = ["version: 3", "created_by: someone", f"task_description: {task}", "seed_examples:"]
    for q, a in pairs:
        lines += [f"  - question: {json.dumps(q)}", f"    answer: {json.dumps(a)}"]
    return "\n".join(lines) + "\n"


def write_leaf(root: Path, leaf: str, pairs: list[tuple[str, str]]) -> Path:
    path = root / "compositional_skills" / leaf / "qna.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(skill_yaml(pairs), encoding="utf-8")
    return path


FACTS = [(f"What is fact number {i}?", f"Fact number {i} is that the sky over town {i} is blue.") for i in range(5)]
INVENTED = [(f"How do you zorble a quibnet of size {i}?", f"You fold the quibnet {i} times along its glimmer edge.")
            for i in range(5)]
