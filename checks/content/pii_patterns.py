"""The `pii` check's own recognizers: phone numbers of any country, government identifiers, and the
postal addresses of private persons. Plain regular expressions and check digits, no model: they run
on every string of every file, so each costs microseconds (presidio's phone matcher, one
libphonenumber pass per region, took 6 ms a string).

A value that identifies a person only by its shape (nine digits could be anything) needs a cue word
before it ("passport", "licence", "SIN"); a shape with check digits (Aadhaar, CPF, a Chinese
resident id) or a strict layout (a UK National Insurance number, a codice fiscale) is found alone.
An address needs a personal cue ("I live at", "my home address", "ship ... to me at"): the address of
a museum or a shop is not personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers


@dataclass(frozen=True, slots=True)
class Hit:
    entity: str
    start: int
    end: int
    score: float


# --- tables ---------------------------------------------------------------------------------------------

TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$", re.MULTILINE)
TABLE_RULE = re.compile(r"^[ \t]*\|(?:\s*:?-+:?\s*\|)+[ \t]*$")


@lru_cache(maxsize=16)
def table_headers(text: str) -> dict[int, list[str]]:
    """For each body row of each Markdown table in the text, its start offset -> the header's cells
    (one pass over the lines; the recognizers ask about many numbers of one text)."""
    out: dict[int, list[str]] = {}
    header: list[str] | None = None
    previous, offset = "", 0
    for line in text.split("\n"):
        if not TABLE_ROW.fullmatch(line):
            header = None
        elif TABLE_RULE.fullmatch(line):
            header = [c.strip() for c in previous.strip().strip("|").split("|")] if TABLE_ROW.fullmatch(
                previous) else None
        elif header is not None:
            out[offset] = header
        previous, offset = line, offset + len(line) + 1
    return out


def column_header(text: str, at: int) -> str:
    """The header of the Markdown table column holding position `at`, or "" outside a table's body:
    a column named `Passport` or `Ticket` says what the numbers under it are, as a cue word would."""
    if "|" not in text:
        return ""
    start = text.rfind("\n", 0, at) + 1
    header = table_headers(text).get(start)
    column = text[start:at].count("|") - 1
    return header[column] if header is not None and 0 <= column < len(header) else ""


# --- phones -------------------------------------------------------------------------------------------

# Regions whose national formats are tried for a number written without `+CC`, most common first.
PHONE_REGIONS = ("US", "GB", "IN", "DE", "FR", "AU", "CA", "BR", "IT", "ES", "NL", "JP", "MX", "IE", "ZA", "NG",
                 "PH", "PK", "KE", "NZ", "SG", "PL", "SE", "CH", "AT", "BE", "PT", "TR", "KR", "CN")
PHONE_CANDIDATE = re.compile(r"(?<![\w.+/-])(?:\+|00)?\(?\d[\d \u00a0().\-/]{5,22}\d(?![\w/]|[.-]\d)")
PHONE_CONTEXT = re.compile(r"\b(?:call|phone|tel|telephone|mobile|cell|contact|reach|whatsapp|fax|text|ring|dial"
                           r"|landline|gsm|handy|portable|celular|telefone?)\b", re.IGNORECASE)
DECIMAL_RANGE = re.compile(r"^\(?\d+\.\d+\s*[-\u2013]\s*\d+\.\d+\)?$")
YEAR_RANGE = re.compile(r"^(?:1\d|20)\d\d\s*[-\u2013/]\s*(?:1\d|20)?\d\d$")
DATE = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.](?:1\d|20)\d\d$")
EIN = re.compile(r"^\d{2}-\d{7}$")  # a US employer (company) tax id
YEAR_IN_PARENS = re.compile(r"\(\s*(?:1\d|20)\d\d\)?$")  # "145 L.Ed.2d 570 (2000)": a citation
ISO_DATE = re.compile(r"^(?:1\d|20)\d\d-[01]\d-[0-3]\d\b")  # a date, or a date and an hour
DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?$")
DECIMAL = re.compile(r"^-?\d+[.,]\d+$")
ZIP_PLUS_4 = re.compile(r"^\d{5}-\s?\d{4}$")
DECIMAL_SUM = re.compile(r"^\d+\.\d{1,2}\s?[-+]\s?\d")  # 57202.89-57000
# Words that name a number as a reference, a code or a product: nobody's phone.
REFERENCE_WORDS = (r"order|invoice|case|ticket|tracking|claim|rma|item|article|catalogue|catalog|part|product|model"
                   r"|sku|serial|reference|ref\.?|booking|confirmation|account|policy|batch|lot|entry|log")
REFERENCE = re.compile(rf"\b(?:{REFERENCE_WORDS})\b", re.IGNORECASE)
NUMBER_BEFORE = re.compile(r"(?:\bv|version|release|rel\.?|build|\bISBN(?:-1[03])?\b[^0-9]{0,8}|\bdoi:?\s*"
                           rf"|\b(?:{REFERENCE_WORDS})\s*(?:no\.?|number|#|code|id)?|\barxiv:?|\bpp?\.)\s*$",
                           re.IGNORECASE)
OPERATOR_AFTER = re.compile(r"\s*(?:[=+*\u00d7]|(?:mod(?:ulo)?|times|plus|minus|divided)\b|(?:k?m|m/s|kg|g|s|Hz)\b)")
OPERATOR_BEFORE = re.compile(r"[=\u00d7\u2248]\s*$")
# A number that starts with a date (20240311 093015, a timestamp in a log).
STAMP = re.compile(r"^(?:19|20)\d\d[01]\d[0-3]\d\b")
TOLL_FREE = re.compile(r"^1?8(?:00|88|77|66|55|44|33)\d{7}$")
# Ranges regulators set aside for drama and documentation, by region, as national significant numbers.
FICTIONAL = {
    "GB": re.compile(r"^(?:7700900|2079460|1\d\d4960|1914980|2896496|2920180|1632960|8081570|9098790|3069990)"),
    "AU": re.compile(r"^(?:49157[0-2]|25550|37010|75550|87010)"),
}


def fictional(value: str) -> bool:
    """A drama or documentation number (555-01xx, Ofcom's 07700 900xxx, ACMA's 0491 570 xxx), read as a
    number of the region that set the range aside (those ranges are not valid numbers anywhere else)."""
    if re.search(r"55501\d\d$", re.sub(r"\D", "", value)):
        return True  # 555-01xx, with or without an area code
    text = "+" + value[2:] if value.startswith("00") else value
    for region, reserved in FICTIONAL.items():
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        home = phonenumbers.region_code_for_country_code(number.country_code) == region
        if home and reserved.match(phonenumbers.national_significant_number(number)):
            return True
    return False


def parse_phone(value: str) -> phonenumbers.PhoneNumber | None:
    """The number libphonenumber accepts as valid, international first, else in a common region."""
    text = "+" + value[2:] if value.startswith("00") else value
    for region in (None,) if text.startswith("+") else PHONE_REGIONS:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return number
    return None


def phones(text: str) -> Iterator[Hit]:
    for m in PHONE_CANDIDATE.finditer(text):
        value = m.group().rstrip(" -./(")
        if not_a_phone(value, text, m.start()):
            continue
        if parse_phone(value) is not None and not fictional(value):
            yield Hit("PHONE_NUMBER", m.start(), m.start() + len(value), 0.6)


def not_a_phone(value: str, text: str, start: int) -> bool:
    """Number look-alikes: ranges, years, dates, decimals, sums, references, placeholders, bare digit runs."""
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15 or "\u2013" in value or " - " in value or "  " in value or "\t" in value:
        return True  # out of a phone's length, a range, a sum, table columns
    if "/" in value and (value.count("/") > 1 or not value.lstrip("(").startswith("0")):
        return True  # fractions and year pairs; a slash follows an area code (030/1234567)
    header = column_header(text, start)
    cued = bool(PHONE_CONTEXT.search(text[max(0, start - 40): start]) or PHONE_CONTEXT.search(header))
    if REFERENCE.search(header) or (REFERENCE.search(text[max(0, start - 30): start]) and not cued):
        return True  # a column of tickets, an order or tracking number ("tracking number 1Z 999 AA1 01 2345")
    bare = value.strip("()")
    if any(p.match(bare) for p in (DECIMAL_RANGE, YEAR_RANGE, ISO_DATE, DATE, STAMP, DOTTED_QUAD, ZIP_PLUS_4,
                                   DECIMAL_SUM, EIN)) or (DECIMAL.match(value) and not cued) or \
            YEAR_IN_PARENS.search(value):
        return True
    before = text[max(0, start - 1): start]
    if NUMBER_BEFORE.search(text[max(0, start - 24): start]) or before in ("#", "$", "-", "=") or (
            before == ":" and not value.startswith("+")) or OPERATOR_AFTER.match(text, start + len(value)) or \
            OPERATOR_BEFORE.search(text[max(0, start - 3): start]):
        return True  # references, versions (`regex==2024.5.15`, `image:1.20.10-11`), sums (`39-22=`)
    groups = re.findall(r"\d+", value)
    if "." in value and any(len(g) == 1 for g in groups[1:]):
        return True  # 2024.5.15, 5.14.0-70.26.1: versions
    if not cued and re.fullmatch(r"\d+-\d+", value) and len(groups[0]) == len(groups[1]) and \
            int(groups[1]) > int(groups[0]):
        return True  # 2500-3000: a range of numbers
    if not cued and not value.startswith(("+", "0", "(")) and len(value.split(" ")) >= 4:
        return True  # 80 97 114 105 115: a run of numbers
    if not cued and not value.startswith(("+", "0", "(")) and len(digits.removeprefix("1")) != 10:
        return True  # 5425-2334, 982 451 653: without a cue, a country code or a trunk 0, only a full
        #              North American number reads as a phone (elsewhere people dial the 0)
    if TOLL_FREE.match(digits):
        return True  # toll-free numbers are business lines, nobody's personal number
    if digits in "01234567890" or all(len(set(g)) == 1 for g in groups):
        return True  # 123-456-7890, 111-222-3333: template placeholders
    return value.isdigit() and not cued


# --- government identifiers -----------------------------------------------------------------------

def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) < 2 or len(set(digits)) == 1:
        return False
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


_VERHOEFF_D = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
               [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
               [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
               [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
_VERHOEFF_P = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]
for _ in range(7):
    _VERHOEFF_P.append([[1, 5, 7, 6, 2, 8, 3, 0, 9, 4][d] for d in _VERHOEFF_P[-1]])


def verhoeff_valid(number: str) -> bool:
    """Aadhaar's check digit."""
    c = 0
    for i, ch in enumerate(reversed(re.sub(r"\D", "", number))):
        c = _VERHOEFF_D[c][_VERHOEFF_P[i % 8][int(ch)]]
    return c == 0


def cpf_valid(value: str) -> bool:
    n = [int(c) for c in re.sub(r"\D", "", value)]
    if len(n) != 11 or len(set(n)) == 1:
        return False
    for k in (9, 10):
        s = sum(v * w for v, w in zip(n[:k], range(k + 1, 1, -1), strict=True)) % 11
        if n[k] != (0 if s < 2 else 11 - s):
            return False
    return True


def dni_valid(value: str) -> bool:
    return "TRWAGMYFPDXBNJZSQVHLCKE"[int(value[:8]) % 23] == value[8].upper()


def bsn_valid(value: str) -> bool:
    n = [int(c) for c in value]
    return len(n) == 9 and (sum(v * w for v, w in zip(n[:8], range(9, 1, -1), strict=True)) - n[8]) % 11 == 0


def cn_id_valid(value: str) -> bool:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(value[:17], weights, strict=True)) % 11] == value[17].upper()


def nino_valid(value: str) -> bool:
    """UK National Insurance number: HMRC never issues these prefixes (QQ is its documentation one)."""
    flat = value.replace(" ", "").upper()
    return flat[0] not in "DFIQUV" and flat[1] not in "DFIOQUV" and flat[:2] not in {"BG", "GB", "NK", "KN", "TN",
                                                                                      "NT", "ZZ"}


def personnummer_valid(value: str) -> bool:
    digits = re.sub(r"\D", "", value)[-10:]
    return 1 <= int(digits[2:4]) <= 12 and 1 <= int(digits[4:6]) <= 31 and luhn_valid(digits)


def always(_: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class IdScheme:
    """One identifier layout: found alone when `alone` (strict layout or check digits), else after a cue."""

    pattern: re.Pattern[str]
    valid: Callable[[str], bool]
    alone: bool
    checksum: bool  # `valid` checks a check digit: after a cue, a mistyped one is still somebody's number


def _id(pattern: str, valid: Callable[[str], bool] = always, alone: bool = False, checksum: bool = False) -> IdScheme:
    # Never a piece of a longer number ("4539 1488 0343" inside a card number is not an Aadhaar).
    return IdScheme(re.compile(rf"(?<![\w-])(?<!\d[ .]){pattern}(?![\w-])(?![ .]\d)"), valid, alone, checksum)


NATIONAL_IDS = (
    _id(r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]", nino_valid, alone=True),  # UK National Insurance
    _id(r"[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z]", alone=True),  # Italian codice fiscale
    _id(r"\d{3}\.\d{3}\.\d{3}-\d{2}", cpf_valid, alone=True, checksum=True),  # Brazilian CPF, written with its dots
    _id(r"\d{11}", cpf_valid, checksum=True),
    _id(r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}", verhoeff_valid, alone=True, checksum=True),  # Aadhaar
    # a Chinese resident id
    _id(r"[1-8]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx]", cn_id_valid, alone=True, checksum=True),
    _id(r"[STFGM]\d{7}[A-Z]", alone=True),  # Singapore NRIC / FIN
    _id(r"[A-Z]{3}[PCHFATBLJG][A-Z]\d{4}[A-Z]", alone=True),  # Indian PAN
    _id(r"\d{8}[A-Z]", dni_valid, alone=True, checksum=True),  # Spanish DNI
    _id(r"[XYZ]-?\d{7}-?[A-Z]"),  # Spanish NIE
    _id(r"\d{3}[ -]\d{3}[ -]\d{3}", luhn_valid, alone=True, checksum=True),  # Canadian SIN
    _id(r"(?:19|20)?\d{6}[-+]\d{4}", personnummer_valid, alone=True, checksum=True),  # Swedish personnummer
    _id(r"\d{9}", bsn_valid, checksum=True),  # Dutch BSN
    _id(r"\d{2} ?\d{3} ?\d{3} ?\d{3}", always),  # German Steuer-ID, after a cue
    _id(r"\d{2}[ .]?\d{3}[ .]?\d{3}", always),  # Australian TFN and other 8-9 digit ids, after a cue
    _id(r"[A-Z0-9]{5,12}", lambda v: sum(c.isdigit() for c in v) >= 5),  # any other id, after a cue
)
ID_CUE = re.compile(
    r"\b(?:national\s+(?:id(?:entity)?|identification|insurance)|identity\s+(?:card|number|document)|id\s*(?:card"
    r"|number|no\.?|#)|citizen(?:ship)?\s+(?:id|number)|personal\s+(?:id|number|code)|tax\s*(?:id|number|file\s+number"
    r"|code)|TFN|CPF|CNPJ|DNI|NIE|NIF|BSN|SIN|social\s+insurance|aadhaa?r|NINO|PAN(?:\s+card)?|codice\s+fiscale|NRIC"
    r"|FIN|personnummer|PESEL|NIR|CURP|RUT|resident\s+id|hukou|my\s+number|steuer-?id(?:entifikationsnummer)?"
    r"|steuer-?idnr\.?|steuernummer|NI\s+number)(?![\w-])(?:\s+(?:is|was|no\.?|number|:|#))*"
    r"[\s:#.,()]*", re.IGNORECASE)
PASSPORT_CUE = re.compile(r"\b(?:passport|reisepass|passeport|pasaporte|passaporto)(?:\s+(?:no\.?|number|num\.?|#"
                          r"|is|was|reads|mit|der|nummer|numéro|n°))*[\s:#.]*", re.IGNORECASE)
LICENCE_CUE = re.compile(r"\b(?:driv(?:er'?s?|ing)\s+licen[cs]e|licen[cs]e\s+(?:no\.?|number|#)|DL\s*[#:]|DL\s+(?:no\.?"
                         r"|number)|(?:my|your|his|her|their)\s+(?:[A-Z]\w+\s+)?licen[cs]e|f\u00fchrerschein\w*"
                         r"(?:\s+(?:verloren|mit\s+der))?,?(?:\s+nummer)?)"
                         r"(?:\s+(?:no\.?|number|num\.?|#|is|was))*[\s:#.]*", re.IGNORECASE)
PASSPORT = re.compile(r"(?<![\w-])(?=(?:[A-Z]*\d){2})[A-Z0-9]{6,10}(?![\w-])")
SSN = re.compile(r"(?<![\w-])(?!000|666|9)\d{3}([- ]?)(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
SSN_CUE = re.compile(r"\b(?:SSN|social\s+security(?:\s+(?:no\.?|number|#))?|my\s+social)\b", re.IGNORECASE)
LICENCE = re.compile(r"(?<![\w-])[A-Z]{0,5}\d[A-Z0-9]*(?:[ -]\d[A-Z0-9]*){0,5}(?![\w-])")
CUE_REACH = 40  # characters between the end of a cue and the value it introduces


def _after_cue(text: str, cue: re.Pattern[str], value: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of the first value within reach after each cue, on the same line."""
    for c in cue.finditer(text):
        window_end = text.find("\n", c.end())
        window_end = min(c.end() + CUE_REACH, window_end if window_end != -1 else len(text))
        m = value.search(text, c.end(), window_end)
        if m is not None:
            yield m.start(), m.end()


def _in_column(text: str, cue: re.Pattern[str], value: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each value filling a table cell whose column header is the cue."""
    for m in value.finditer(text):
        if cue.search(column_header(text, m.start())):
            yield m.start(), m.end()


def identifiers(text: str) -> Iterator[Hit]:
    """US social security numbers (dashed alone, spaced after a cue), passports and driving licences
    (after a cue), national ids (alone or after a cue)."""
    ssn_cues = [c.end() for c in SSN_CUE.finditer(text)]
    for m in SSN.finditer(text):
        cued = any(0 <= m.start() - at <= CUE_REACH for at in ssn_cues) or \
            SSN_CUE.search(column_header(text, m.start()))
        if m.group(1) == "-" or cued:
            yield Hit("US_SSN", m.start(), m.end(), 0.85)
    for entity, cue, value in (("PASSPORT", PASSPORT_CUE, PASSPORT), ("DRIVER_LICENSE", LICENCE_CUE, LICENCE)):
        for start, end in [*_after_cue(text, cue, value), *_in_column(text, cue, value)]:
            if entity == "PASSPORT" or sum(c.isdigit() for c in text[start:end]) >= 5:
                yield Hit(entity, start, end, 0.85)
    cued = [c.end() for c in ID_CUE.finditer(text)]
    for scheme in NATIONAL_IDS:
        for m in scheme.pattern.finditer(text):
            near_cue = any(0 <= m.start() - at <= CUE_REACH and "\n" not in text[at:m.start()] for at in cued) or \
                bool(ID_CUE.search(column_header(text, m.start())))
            valid = scheme.valid(m.group()) or (near_cue and scheme.checksum)
            if valid and (scheme.alone or near_cue):
                yield Hit("NATIONAL_ID", m.start(), m.end(), 0.9 if scheme.alone else 0.8)


# --- postal addresses -----------------------------------------------------------------------------

STREET_WORDS = (r"Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Court|Ct|Way|Boulevard|Blvd|Crescent|Terrace"
                r"|Place|Pl|Close|Square|Sq|Highway|Hwy|Parkway|Circle|Row|Gardens|Grove|Hill|Walk|Mews|Nagar|Marg")
ADDRESS_SHAPE = re.compile(
    rf"(?:(?:Flat|Apt\.?|Apartment|Unit|Suite)\s*\d+[A-Z]?,?\s+)?\d{{1,5}}[A-Z]?,?\s+(?:[A-Z][\w'.-]*\s+){{1,4}}"
    rf"(?:{STREET_WORDS})\b"
    r"|[A-ZÄÖÜ][\wäöüß-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm)\s+\d{1,4}[a-z]?"
    r"|\d{1,4},?\s+(?i:rue|avenue|boulevard|bd|chemin|place|allée|impasse|quai|calle|via|viale|piazza)\s+"
    r"|(?:Via|Viale|Piazza|Corso|Calle|Avenida|Rua|Rue)\s+(?:[A-Z][\w'-]*\s+){1,3}\d{1,4}\b"
    r"|(?:House|Flat|Plot|Door)\s*(?:No\.?|#)\s*\d+|#\d+,\s*\d+(?:st|nd|rd|th)\s+(?:Cross|Main)")
# "Our store at 42 Main Street": a business's address is public.
BUSINESS = (r"store|shop|office|offices|restaurant|caf\u00e9|cafe|company|business|hotel|clinic|branch|studio"
            r"|warehouse|church|school|showroom|bakery|bar|pub|gallery|museum|headquarters|hq|factory|stand|booth")
ADDRESS_CUE = re.compile(
    r"\b(?:(?:I|we|they|he|she|(?:my|our)\s+\w+)\s+(?:now\s+|still\s+)?(?:live|lives|lived|reside|resides|stay"
    r"|stays)\s+(?:alone\s+)?(?:at|in|on)"
    r"|(?:I'?m|I\s+am|we'?re|we\s+are)\s+(?:now\s+|currently\s+|still\s+)?at|(?:at|to)\s+my\s+place"
    r"|(?:my|our)\s+(?:flat|house|home|apartment|flat\s+number)\s+is(?:\s+at)?"
    rf"|(?:my|our)\s+(?:(?!(?:{BUSINESS})\b)\w+\s+){{1,2}}at"
    r"|meine\s+adresse(?:\s+ist)?|(?:sender|recipient|addressee|absender|empf\u00e4nger)\s*:"
    r"|(?:my|our|his|her|their|your)\s+(?:home\s+|postal\s+|mailing\s+|street\s+|new\s+|current\s+)?address"
    r"|'s\s+(?:home\s+|postal\s+|mailing\s+)?address|(?:home|mailing|postal|residential)\s+address"
    r"|(?:ship|send|deliver|mail|post|forward)\w*\b[^.\n]{0,40}?\bto(?:\s+me)?(?:\s+at)?|moved\s+to|address\s*:)",
    re.IGNORECASE)
# A company's address (a landlord LLC, a supplier Inc.) is not a private person's.
COMPANY_BEFORE = re.compile(r"\b(?:LLC|L\.L\.C\.|Inc\.?|Ltd\.?|Limited|GmbH|Corp\.?|Corporation|Company|PLC|AG|S\.A\.|"
                            r"B\.V\.|Pty)(?!\w)")
ADDRESS_END = re.compile(r"[;!?]|\.(?:\s|$)|\n|\s(?:come|and|if|for|last|before|after|by|since|please)\b")
ADDRESS_REACH = 60


def addresses(text: str) -> Iterator[Hit]:
    """A street address within reach after a personal cue (or in a table column named Address), up to the
    end of its clause."""
    for m in ADDRESS_SHAPE.finditer(text):
        if "address" in column_header(text, m.start()).lower():
            end = re.compile(r"\s*\|").search(text, m.end())
            yield Hit("POSTAL_ADDRESS", m.start(), end.start() if end else m.end(), 0.7)
    for c in ADDRESS_CUE.finditer(text):
        m = ADDRESS_SHAPE.search(text, c.end(), min(len(text), c.end() + ADDRESS_REACH))
        if m is None or "\n" in text[c.end():m.start()] or COMPANY_BEFORE.search(text, max(0, c.start() - 100),
                                                                                  c.start()):
            continue
        end = ADDRESS_END.search(text, m.end())
        yield Hit("POSTAL_ADDRESS", m.start(), end.start() if end else len(text), 0.7)
