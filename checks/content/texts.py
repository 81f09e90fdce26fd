"""What a contributor wrote in a qna.yaml, pulled out once for the content checks and the index."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from checks.document import Document, PathKey

# Values that are metadata, not prose: who wrote it, and where the knowledge document lives.
NOT_PROSE: frozenset[PathKey] = frozenset({
    ("created_by",), ("version",), ("document", "repo"), ("document", "commit"), ("document", "patterns"),
})


@dataclass(frozen=True, slots=True)
class Example:
    """One question and answer; `at` is the path of the mapping holding them."""

    at: PathKey
    question: str
    answer: str
    context: str = ""  # a grounded skill's own context (knowledge contexts are shared by their questions)
    knowledge_context: str = ""  # a knowledge pair's shared context (the build prompts with it)

    @property
    def prompt_context(self) -> str:
        """The context a model sees before the question: the grounded one, else the knowledge one."""
        return self.context or self.knowledge_context

    @property
    def text(self) -> str:
        """What gets embedded: the question and the answer (a context would fill the model's 256 tokens)."""
        return f"{self.question.strip()}\n{self.answer.strip()}"

    @property
    def context_key(self) -> str:
        """Identifies the context: two grounded examples on different contexts are different examples."""
        return context_key(self.context)


def context_key(context: str) -> str:
    flat = " ".join(context.split())
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()[:16] if flat else ""


def prose(document: Document) -> Iterator[tuple[PathKey, str]]:
    """Every string a contributor wrote, with its path (metadata such as `created_by` left out)."""
    for path, value in document.iter_strings():
        if not any(path[: len(skip)] == skip for skip in NOT_PROSE):
            yield path, value


def _qa(at: PathKey, item: Any, knowledge_context: Any = "") -> Example | None:
    if not isinstance(item, dict):
        return None
    question, answer = item.get("question"), item.get("answer")
    context = item.get("context")
    if isinstance(question, str) and isinstance(answer, str) and (question.strip() or answer.strip()):
        return Example(at, question, answer, context if isinstance(context, str) else "",
                       knowledge_context if isinstance(knowledge_context, str) else "")
    return None


def examples(data: Any) -> list[Example]:
    """The seed examples of a skill, or the questions and answers of a knowledge file's contexts."""
    seeds = data.get("seed_examples") if isinstance(data, dict) else None
    if not isinstance(seeds, list):
        return []
    found: list[Example] = []
    for i, seed in enumerate(seeds):
        nested = seed.get("questions_and_answers") if isinstance(seed, dict) else None
        if isinstance(nested, list):
            found.extend(e for j, qa in enumerate(nested)
                         if (e := _qa(("seed_examples", i, "questions_and_answers", j), qa, seed.get("context"))))
        elif example := _qa(("seed_examples", i), seed):
            found.append(example)
    return found


def locate_span(qna: Any, path: PathKey, text: str, offset: int) -> tuple[int, int]:
    """The file line and column of `text[offset:]`, where `text` is the value at `path`.

    The span's first characters are searched in the raw file from the value's start; when YAML
    folding or escapes hide them, the value's own position is the answer.
    """
    line, column = qna.document.positions.locate(path)
    raw: str = qna.document.text
    lines = raw.split("\n")
    start = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
    end_of_line = text.find("\n", offset)
    needle = text[offset: min(offset + 24, end_of_line if end_of_line != -1 else len(text))]
    found = raw.find(needle, start) if needle.strip() else -1
    if found == -1:
        return line, column
    return raw.count("\n", 0, found) + 1, found - (raw.rfind("\n", 0, found) + 1) + 1
