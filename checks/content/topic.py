"""`topic`: the avoid-these-topics list, plus jokes, poems and code.

Precise things are rules (fenced code, shell commands, manifests, requests for jokes or poems);
hostile and profane sentences are found by a trained classifier and threat/dehumanisation phrases
(`checks.content.abuse`); fuzzy things (violence, discrimination, advice...) are embedding similarity
to short descriptions of each topic. Advice topics need an advice cue too ("you should", "I recommend"):
knowledge that states facts about religion, medicine or finance is welcome, advice is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from checks.content.abuse import hostile_spans
from checks.content.texts import examples, locate_span, prose
from checks.content.vectors import embed_cached
from checks.context import CheckContext
from checks.document import PathKey, format_yaml_path
from checks.embeddings import comparable
from checks.excerpt import excerpt
from checks.findings import Finding, Severity
from checks.lazy import Lazy
from checks.qna import QnaFile

CHECK = "topic"
HOSTILE = "hostile or profane language"  # the classifier's topic (checks.content.abuse)

RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("code", re.compile(r"^\s*```", re.MULTILINE)),
    ("code (shell command)", re.compile(
        r"^\s*(?:\$\s+\S+|sudo\s+\S+|rm\s+-rf\b|(?:pip3?|npm|yarn|apt(?:-get)?|brew|dnf|yum)\s+install\b"
        r"|curl\s+\S.*\|\s*(?:ba)?sh\b|kubectl\s+\w+|docker\s+(?:run|build|exec)\b|chmod\s+[0-7+]\w*\s)",
        re.MULTILINE)),
    ("code (manifest)", re.compile(
        r"^\s*apiVersion:\s*\S+\s*$(?=[\s\S]*^\s*kind:\s*\S+)|^FROM\s+\S+\s*\n(?:.*\n)*?RUN\s", re.MULTILINE)),
    ("code", re.compile(r"^\s*(?:def\s+\w+\(.*\)\s*:|#include\s*<\w|public\s+static\s+void\s+main|function\s+\w+\s*\("
                        r"|(?:const|let)\s+\w+\s*=\s*require\(|SELECT\s+.+\s+FROM\s+\w+)", re.MULTILINE)),
    ("jokes", re.compile(r"\b(?:tell|write|give|share|make|know)\b[^.?!\n]{0,30}\b(?:jokes?|puns?)\b|\bknock,? knock\b"
                         r"|\bpunchline\b", re.IGNORECASE)),
    ("poems", re.compile(r"\b(?:write|compose|create|generate|give)\b[^.?!\n]{0,40}\b(?:poems?|poetry|haikus?"
                         r"|limericks?|sonnets?|ballads?|odes?|verses?)\b", re.IGNORECASE)),
)

ADVICE_CUE = re.compile(r"\b(?:you should|you must|you need to|i (?:would )?recommend|i suggest|i advise|my advice"
                        r"|(?:it is|it's) best to|make sure (?:you|to)|don't (?:take|buy|sell|sign|go)"
                        r"|(?:vote|donate) for"
                        r"|(?:buy|sell|invest in|take|stop taking|sue|pray to|convert to)\s+(?:your|the|this|these|"
                        r"\d))", re.IGNORECASE)
ADVICE_TOPICS = {"medical advice", "financial advice", "legal advice", "religious advice", "political campaigning"}
TOPICS: dict[str, tuple[str, ...]] = {
    "violence and self-harm": (
        "how to hurt, kill or attack a person with a weapon",
        "ways to harm yourself, commit suicide or self-injure",
        "instructions for building a bomb or an explosive device"),
    "cyber bullying": (
        "insulting and humiliating a classmate online to bully them",
        "threatening messages to harass someone on social media"),
    "confidential material": (
        "leaked internal company secrets marked confidential, not for distribution",
        "a private password, api key or secret token to log in"),
    "discrimination": (
        "people of that race or religion are inferior and should be excluded",
        "women are worse than men at science and should not be hired"),
    "medical advice": (
        "you should take this medication dose to treat your illness",
        "stop taking your prescribed medicine and use this remedy instead"),
    "financial advice": (
        "you should invest your savings in this stock or cryptocurrency now",
        "buy these shares, they are guaranteed to make you rich"),
    "legal advice": (
        "you should sue your landlord and here is how to win the case",
        "what you should say to the police to avoid being charged"),
    "religious advice": (
        "you should convert to this religion and pray to be saved",
        "the one true faith you must follow to go to heaven"),
    "gender bias": (
        "a nurse is always a woman and an engineer is always a man",
        "girls are naturally bad at math and boys are bad at caring"),
    "hostile language": (
        "you are a stupid worthless idiot and everyone hates you",
        "shut up, you pathetic moron"),
    "sexual content": (
        "explicit sexual description of intercourse between two people",
        "erotic story with graphic sex scenes"),
    "automated decisions about people": (
        "decide whether to hire this candidate based on their profile",
        "approve or deny this person's loan application automatically"),
    "political campaigning": (
        "vote for this candidate in the next election, they will save the country",
        "donate to our party's campaign and support our political agenda"),
}
SIMILAR_AT = 0.55  # calibrated on tests/content/data/topics.jsonl (see docs/content-checks.md)



def _embed_topics() -> tuple[list[str], np.ndarray]:
    names = [name for name, texts in TOPICS.items() for _ in texts]
    return names, embed_cached([t for texts in TOPICS.values() for t in texts])


_TOPIC_VECTORS: Lazy[tuple[list[str], np.ndarray]] = Lazy(_embed_topics)


def topic_vectors() -> tuple[list[str], np.ndarray]:
    """One row per topic description, with the topic it describes (embedded once per process)."""
    return _TOPIC_VECTORS.get()


def quote(text: str, start: int = 0) -> str:
    """From `start` to the end of its line, shortened: the span a reviewer reads."""
    return excerpt(text[start:].partition("\n")[0])


def rule_hits(text: str) -> Iterator[tuple[str, int, int]]:
    """(topic, start, end) for each precise rule that matches."""
    for topic, rule in RULES:
        m = rule.search(text)
        if m:
            yield topic, m.start(), m.end()


def similar_topics(texts: list[str]) -> list[tuple[str, float] | None]:
    """For each text, the closest avoid-topic at or above the threshold (advice needs an advice cue)."""
    names, rows = topic_vectors()
    out: list[tuple[str, float] | None] = []
    for text, scores in zip(texts, comparable(embed_cached(texts) @ rows.T), strict=True):
        best: tuple[str, float] | None = None
        for i in np.argsort(-scores, kind="stable"):  # equal scores: the topic listed first
            if scores[i] < SIMILAR_AT:
                break
            if names[i] in ADVICE_TOPICS and not ADVICE_CUE.search(text):
                continue
            best = (names[i], float(scores[i]))
            break
        out.append(best)
    return out


def check_topic(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    reported: set[tuple[PathKey, str]] = set()
    strings = list(prose(qna.document))
    for (path, text), spans in zip(strings, hostile_spans([text for _, text in strings]), strict=True):
        if spans:
            first = spans[0]
            more = f" (and {len(spans) - 1} more sentences)" if len(spans) > 1 else ""
            line, column = locate_span(qna, path, text, first.start)
            yield Finding(CHECK, Severity.WARNING,
                          f"{HOSTILE}: \u201c{quote(text[first.start:first.end])}\u201d{more} ({first.why}) is on "
                          "upstream's avoid-topics list; a reviewer will look at it",
                          qna.path, line, column, format_yaml_path(path))
    for path, text in strings:
        for topic, start, _ in rule_hits(text):
            if (path, topic) in reported:
                continue
            reported.add((path, topic))
            line, column = locate_span(qna, path, text, start)
            yield Finding(CHECK, Severity.WARNING,
                          f"{topic}: \u201c{quote(text, start)}\u201d is on upstream's avoid-topics list; "
                          "a reviewer will look at it", qna.path, line, column, format_yaml_path(path))
    found = examples(qna.data)
    for example, hit in zip(found, similar_topics([e.text for e in found]), strict=True):
        if hit is not None:
            topic, score = hit
            yield qna.finding(
                CHECK, Severity.WARNING,
                f"{topic} (similarity {score:.2f}): \u201c{quote(example.question)}\u201d "
                "reads like a topic upstream asks contributors to avoid; a reviewer will look at it",
                at=(*example.at, "question"))
