"""Reading the teacher's free text (and a probability judge's option probabilities). Weak teachers
ramble: every parser returns None or an empty list for what it cannot read, and the flows count
those as malformed instead of crashing."""

from __future__ import annotations

import re

_NUMBERED = re.compile(r"^\s*(?:\d{1,2}\s*[.):]|[-*•]|Q\d*\s*[.:)])\s*(.+?)\s*$", re.IGNORECASE)
_SCORE = re.compile(r"(?:score|rating)\s*[:=]?\s*\**\s*([1-5])(?:\s*/\s*5)?\b", re.IGNORECASE)
_LONE_DIGIT = re.compile(r"^\s*\**([1-5])(?:\s*/\s*5)?\**\s*[.!]?\s*$")
_YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
_QA = re.compile(r"^\s*(?:\d+\s*[.)]\s*)?\**(q|question|a|answer)\**\s*\d*\s*[:.)]\s*(.*)$", re.IGNORECASE)
MIN_QUESTION_CHARS = 8
MAX_QUESTION_CHARS = 600
YES_NO_WITHIN = 40  # a yes or no later than this is part of a sentence, not the verdict


def _clean_question(text: str) -> str | None:
    text = text.strip().strip('"').strip()
    if not (MIN_QUESTION_CHARS <= len(text) <= MAX_QUESTION_CHARS) or not any(c.isalpha() for c in text):
        return None
    return text


def parse_questions(text: str | None, limit: int) -> list[str]:
    """Questions from a numbered or bulleted list, at most `limit`, duplicates dropped."""
    if not text:
        return []
    out: list[str] = []
    for line in text.splitlines():
        match = _NUMBERED.match(line)
        if not match:
            continue
        question = _clean_question(match.group(1))
        if question and question not in out:
            out.append(question)
        if len(out) == limit:
            break
    return out


def parse_score(text: str | None) -> int | None:
    """A 1..5 score from `Score: N`, `Rating: 4/5` or a lone digit; None when there is none."""
    if not text:
        return None
    match = _SCORE.search(text) or _LONE_DIGIT.match(text)
    return int(match.group(1)) if match else None


def parse_yes_no(text: str | None) -> bool | None:
    """True for yes, False for no, from a yes/no word near the start; None when there is none."""
    if not text:
        return None
    match = _YES_NO.search(text)
    if match is None or match.start() > YES_NO_WITHIN:
        return None
    return match.group(1).lower() == "yes"


def parse_answer(text: str | None) -> str | None:
    """The answer text, trimmed; None when empty or without a letter or digit."""
    if not text:
        return None
    text = text.strip()
    return text if any(c.isalnum() for c in text) else None


def parse_qa_pairs(text: str | None, limit: int) -> list[tuple[str, str]]:
    """`Q: ... / A: ...` pairs (answers may span lines); a question without an answer is dropped."""
    if not text:
        return []
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    answer: list[str] | None = None

    def flush() -> None:
        if question and answer is not None:
            body = "\n".join(answer).strip()
            q = _clean_question(question)
            if q and body and (q, body) not in pairs:
                pairs.append((q, body))

    for line in text.splitlines():
        match = _QA.match(line)
        if match and match.group(1).lower().startswith("q"):
            flush()
            question, answer = match.group(2), None
        elif match and question is not None and answer is None:
            answer = [match.group(2)]
        elif answer is not None:
            answer.append(line)
    flush()
    return pairs[:limit]


def yes_share(probabilities: list[float] | None) -> float | None:
    """P(yes) / (P(yes) + P(no)) from a probability judge's [yes, no]; None when neither is likely at all."""
    if not probabilities or sum(probabilities) <= 0.0:
        return None
    return probabilities[0] / sum(probabilities)


def expected_score(probabilities: list[float] | None) -> float | None:
    """The mean score, 1..5, under a probability judge's [P(1), ..., P(5)]; None when no digit is likely."""
    if not probabilities or sum(probabilities) <= 0.0:
        return None
    return sum(score * p for score, p in enumerate(probabilities, 1)) / sum(probabilities)
