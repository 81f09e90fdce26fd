"""Hate, abuse and profanity, screened locally by a trained classifier, sentence by sentence.

The classifier is `alt-profanity-check` (MIT): a linear SVM over word n-grams, calibrated to a
probability, trained on human-labelled hostile and profane comments; its model ships inside the
wheel, so it runs offline and loads in under a second. It is a bag of words, so it is scored on one
sentence at a time (a long answer would dilute one hostile sentence) and the finding quotes the
sentence it scored. Upstream sent PRs to an external service for this; a local model sends nothing.

Beside it, `checks.content.abuse_rules` finds what a bag of words cannot see (a generalisation about a
group, a mild insult, a threat without a rude word) and gives innocent senses ("the bitch whelped")
and reported speech a neutral reading before the classifier scores them. Summing mildly suspect words
("a hole", "our dog") is not evidence: a sentence counts when one of its words alone scores WORD_AT.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from checks.content.abuse_rules import benign, hostile_rule, reported
from checks.lazy import Lazy

# Chosen on the tuning part of tests/content/data/abuse_tune.jsonl (see docs/content-checks.md).
HOSTILE_AT = 0.85
# Chosen on tests/content/data/abuse_independent.jsonl: the word that carries a hostile sentence.
WORD_AT = 0.75
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# What a bag of swear words cannot see: threats and dehumanising talk about a group, without a rude word.
HOSTILE_PHRASES = re.compile(
    r"\b(?:watch your back|i know where you live|(?:i'?ll|i will|gonna)\s+(?:hunt you|find you|break your|beat|kill"
    r"|hurt|make you (?:pay|regret))|go to hell|(?:are|is)\s+(?:(?:just|nothing but|like)\s+)?(?:vermin|animals|"
    r"parasites|subhuman|cockroaches|rats|a disease|a plague)\b|(?:better|cleaner|safer) (?:off )?without (?:all )?"
    r"(?:the )?\w+(?: \w+)?$|wish (?:all )?(?:the )?\w+(?: \w+)? would (?:just )?(?:disappear|die|vanish)"
    r"|(?:should|must) (?:all )?be (?:thrown out|deported|exterminated|wiped out|gassed|shot|locked up)"
    r"|don'?t deserve (?:any )?(?:rights|to live))", re.IGNORECASE | re.MULTILINE)
SENTENCE = re.compile(r"[^\n.!?]+(?:[.!?]+|$)", re.MULTILINE)



@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    why: str  # "classifier score 0.97" or "threatening or dehumanising phrase"


def _load() -> tuple[Any, Any]:
    from profanity_check import profanity_check

    return profanity_check.vectorizer, profanity_check.model


_MODEL: Lazy[tuple[Any, Any]] = Lazy(_load)


def model() -> tuple[Any, Any]:
    """(vectorizer, classifier) from the installed package, loaded once per process."""
    return _MODEL.get()


MIN_WORDS = 3  # a lone word or fragment ("hate.", "Fool", "sh run.") is a vocabulary item, not an insult


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of at least MIN_WORDS words."""
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text)
            if sum(1 for w in m.group().split() if any(c.isalpha() for c in w)) >= MIN_WORDS]


def scores(texts: Sequence[str]) -> list[float]:
    """The classifier's probability that each text is hostile or profane."""
    if not texts:
        return []
    vectorizer, classifier = model()
    return [float(p[1]) for p in classifier.predict_proba(vectorizer.transform(list(texts)))]


def hostile_spans(texts: Sequence[str], threshold: float = HOSTILE_AT) -> list[list[Span]]:
    """For each text, its sentences the classifier scores at or above the threshold, or holding a
    threatening or dehumanising phrase (the classifier runs once, on all sentences)."""
    spans = [sentences(text) for text in texts]
    readings = [benign(reported(text[s:e])) for text, found in zip(texts, spans, strict=True) for s, e in found]
    it = iter(zip(readings, scores(readings), strict=True))
    out: list[list[Span]] = []
    for text, found in zip(texts, spans, strict=True):
        out.append([])
        for start, end in found:
            reading, score = next(it)
            rule = hostile_rule(text[start:end])
            if score >= threshold and max(scores(WORD.findall(reading)), default=0.0) >= WORD_AT:
                out[-1].append(Span(start, end, f"classifier score {score:.2f}"))
            elif HOSTILE_PHRASES.search(reading.rstrip(".!? ")):
                out[-1].append(Span(start, end, "threatening or dehumanising phrase"))
            elif rule is not None:
                out[-1].append(Span(start, end, rule))
    return out
