"""The prompts this project sends the teacher, one function per step of the LAB-style flows.

`PROMPTS_VERSION` hashes every template, so editing a prompt changes every leaf's cache key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pipeline.generate.teacher import Messages

SYSTEM = "You are a careful teacher who writes training data for a student language model."

QUESTIONS = (
    "Task: {task}\n\nHere are example questions for this task:\n{examples}\n\n"
    "Write {n} new questions for the same task, different from the examples. "
    "Write one question per line, numbered 1., 2., 3."
)
QUESTIONS_GROUNDED = (
    "Task: {task}\n\nContext:\n{context}\n\nHere are example questions for this task:\n{examples}\n\n"
    "Write {n} new questions about the context above, different from the examples. "
    "Write one question per line, numbered 1., 2., 3."
)
JUDGE_QUESTION = (
    "Task: {task}\n\nQuestion: {question}\n\n"
    "Is this a clear question that fits the task and can be answered? Reply with one word: yes or no."
)
ANSWER = "{question}"
ANSWER_GROUNDED = "{context}\n\n{question}"
RATE = (
    "Task: {task}\n\nQuestion: {question}\n\nAnswer: {answer}\n\n"
    "Rate how well the answer responds to the question, from 1 (bad) to 5 (excellent). "
    "Reply in the form: Score: N"
)
CONTEXT = (
    "Task: {task}\n\nHere is an example context for this task:\n{example}\n\n"
    "Write one new context of the same kind, on a different subject. Reply with the context only."
)
KNOWLEDGE_PAIRS = (
    "Document:\n{chunk}\n\nHere are example questions and answers about documents like this one:\n{examples}\n\n"
    "Write {n} new questions that the document above answers, each followed by its answer, in the form:\n"
    "Q: question\nA: answer"
)
FAITHFUL = (
    "Document:\n{chunk}\n\nQuestion: {question}\nAnswer: {answer}\n\n"
    "Is the answer correct and supported by the document? Reply with one word: yes or no."
)

_ALL = (SYSTEM, QUESTIONS, QUESTIONS_GROUNDED, JUDGE_QUESTION, ANSWER, ANSWER_GROUNDED, RATE, CONTEXT,
        KNOWLEDGE_PAIRS, FAITHFUL)
PROMPTS_VERSION = hashlib.sha256("\0".join(_ALL).encode()).hexdigest()[:16]


def user_turn(question: str, context: str | None = None) -> str:
    """The one "context, then question" user turn: training rows and evaluation prompts must match."""
    return f"{context}\n\n{question}" if context else question


def chat(user: str) -> Messages:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def numbered(items: Sequence[str]) -> str:
    return "\n".join(f"{i}. {item.strip()}" for i, item in enumerate(items, 1))


def qa_block(pairs: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"Q: {q.strip()}\nA: {a.strip()}" for q, a in pairs)
