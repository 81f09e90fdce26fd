"""Writes the fresh PII set (issue 16): `pii_fresh.jsonl` (tuning) and `pii_holdout.jsonl` (held out).

Run once: `python tests/content/data/make_pii_fresh.py`. Values are drawn at random with valid check
digits where the real identifier has them (a real number is valid); sentences are written as
contributors write questions, answers and contexts. The split is a seeded random third per
category (seed 1605), done once before any tuning; the held-out file is read only by the final
measurement (`make bench ONLY=content`) and its test, never while tuning the detector.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import string
from collections.abc import Callable
from pathlib import Path

import phonenumbers

HERE = Path(__file__).parent
R = random.Random(20261130)

FIRST = ["Maria", "Liam", "Aisha", "Kenji", "Olga", "Mateo", "Priya", "Tomasz", "Chloe", "Kwame", "Ingrid",
         "Ravi", "Lucia", "Hamid", "Sofia", "Jonas", "Mei", "Dmitri", "Amara", "Pedro", "Elif", "Noah", "Yara",
         "Sven", "Fatou", "Hiroshi", "Ana", "Bilal", "Freya", "Diego"]
LAST = ["Okafor", "Schneider", "Tanaka", "Kowalski", "Moreau", "Gupta", "Silva", "Nguyen", "Andersson", "Haddad",
        "Rossi", "O'Brien", "Petrov", "Mensah", "Fernandez", "Yilmaz", "Dubois", "Chen", "Novak", "Kaur",
        "Murphy", "Jansen", "Costa", "Bauer", "Lindqvist", "Abe", "Osei", "Castro", "Varga", "Park"]


def person() -> tuple[str, str]:
    return R.choice(FIRST), R.choice(LAST)


def pick(*options: str) -> str:
    return R.choice(options)


# --- values -------------------------------------------------------------------------------------------

def email() -> str:
    first, last = (x.lower().replace("'", "") for x in person())
    local = pick(f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{R.randint(1, 99)}", f"{last}.{first}",
                 f"{first}{R.randint(70, 99)}", f"{first}+{pick('news', 'shop', 'work')}", f"{first}-{last}")
    domain = pick("gmail.com", "yahoo.co.in", "web.de", "orange.fr", "outlook.com", "hotmail.it", "mail.ru",
                  "libero.it", "t-online.de", "icloud.com", "proton.me", "uol.com.br", "qq.com", "naver.com",
                  "cs.stanford.edu", "students.uni-mainz.de", "bigpond.com", "shaw.ca", "gmx.at", "yandex.ru",
                  "fastmail.fm", "btinternet.com", "telenet.be", "kpnmail.nl", "hey.com")
    return pick(local, local, local.capitalize()) + "@" + domain


def spelled_email() -> str:
    first, last = (x.lower().replace("'", "") for x in person())
    host, tld = pick(("gmail", "com"), ("yahoo", "com"), ("outlook", "com"), ("proton", "me"), ("web", "de"),
                     ("hotmail", "co dot uk"), ("icloud", "com"), ("gmx", "net"))
    style = R.randrange(4)
    if style == 0:
        return f"{first} dot {last} at {host} dot {tld}"
    if style == 1:
        return f"{first}{last[0]} [at] {host} [dot] {tld.replace(' dot ', ' [dot] ')}"
    if style == 2:
        return f"{first}.{last} (at) {host}.{tld.replace(' dot ', '.')}"
    return f"{first}_{last} AT {host} DOT {tld.replace('dot', 'DOT')}"


INTL_REGIONS = ["GB", "DE", "FR", "IN", "AU", "BR", "IT", "ES", "NL", "JP", "MX", "NG", "KE", "ZA", "PL", "SE", "TR",
                "PH", "ID", "AR", "CH", "IE", "PT", "KR", "EG", "PK", "VN", "CO", "NZ", "SG"]


def real_number(region: str, mobile: bool) -> phonenumbers.PhoneNumber:
    """A random number libphonenumber accepts as valid for the region (real numbers are valid)."""
    kind = phonenumbers.PhoneNumberType.MOBILE if mobile else phonenumbers.PhoneNumberType.FIXED_LINE
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    national = phonenumbers.national_significant_number(example)
    for attempt in range(2000):
        keep = R.randint(2, 3) if attempt < 500 else len(national) - 4
        candidate = national[:keep] + "".join(R.choice(string.digits) for _ in national[keep:])
        number = phonenumbers.parse(candidate, region)
        if phonenumbers.is_valid_number(number) and candidate != national and not fictional(region, candidate):
            return number
    raise RuntimeError(region)


def fictional(region: str, national: str) -> bool:
    """Ranges set aside for drama and documentation (never drawn as a positive)."""
    return (region == "GB" and (national.startswith(("7700900", "2079460", "1134960", "1614960")))) or \
        (region == "AU" and national.startswith(("491570", "255501"))) or "55501" in national


def phone_intl() -> str:
    number = real_number(R.choice(INTL_REGIONS), R.random() < 0.6)
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    style = R.randrange(4)
    if style == 1:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if style == 2:
        return text.replace(" ", "-")
    if style == 3:
        return "00" + text[1:]
    return text


def phone_national() -> str:
    region = R.choice(["GB", "DE", "FR", "IN", "AU", "BR", "IT", "ES", "NL", "JP", "MX", "CA", "IE", "ZA", "NG"])
    number = real_number(region, R.random() < 0.6)
    text = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return text.replace(" ", pick(" ", " ", "-", ".")) if region not in ("BR", "MX") else text


def phone_us() -> str:
    area = R.choice([212, 415, 617, 312, 713, 206, 305, 404, 503, 720, 602, 919, 512, 646, 773])
    exchange = R.randint(201, 989)
    while exchange == 555:
        exchange = R.randint(201, 989)
    line = R.randint(1000, 9999)
    return pick(f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}",
                f"+1 {area} {exchange} {line}", f"1-{area}-{exchange}-{line}", f"{area} {exchange} {line}")


def ssn() -> str:
    area = R.choice([n for n in range(1, 900) if n != 666])
    group, serial = R.randint(1, 99), R.randint(1, 9999)
    sep = pick("-", "-", " ")
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "".join(R.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def card() -> str:
    prefix, length = R.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15),
                               ("6011", 16), ("3528", 16), ("62", 16), ("4", 16)])
    digits = luhn_complete(prefix + "".join(R.choice(string.digits) for _ in range(max(0, 2 - len(prefix)))),
                           length)
    groups = [digits[:4], digits[4:10], digits[10:]] if length == 15 else [digits[i:i + 4] for i in range(0, 16, 4)]
    return pick(" ".join(groups), "-".join(groups), digits)


IBAN_SPECS = {"DE": "8n10n", "GB": "4a6n8n", "FR": "5n5n11c2n", "ES": "4n4n1n1n10n", "IT": "1a5n5n12c",
              "NL": "4a10n", "BE": "3n7n2n", "PL": "8n16n", "CH": "5n12c", "AT": "5n11n", "IE": "4a6n8n",
              "PT": "4n4n11n2n", "SE": "3n16n1n"}


def iban() -> str:
    country = R.choice(sorted(IBAN_SPECS))
    bban = ""
    spec = IBAN_SPECS[country]
    for count, kind in re.findall(r"(\d+)([anc])", spec):
        pool = {"a": string.ascii_uppercase, "n": string.digits, "c": string.ascii_uppercase + string.digits}[kind]
        bban += "".join(R.choice(pool) for _ in range(int(count)))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    return " ".join(value[i:i + 4] for i in range(0, len(value), 4)) if R.random() < 0.6 else value


def public_ip() -> str:
    if R.random() < 0.7:
        while True:
            octets = [R.randint(1, 223), R.randint(0, 255), R.randint(0, 255), R.randint(1, 254)]
            value = ".".join(map(str, octets))
            if ipaddress.ip_address(value).is_global:
                return value + pick("", "", ":22", ":8443")
    groups = [pick("2a02", "2600", "2001:4860", "2a01", "2c0f", "2804")] + [f"{R.randint(1, 65535):x}"
                                                                           for _ in range(R.randint(2, 5))]
    value = ":".join(groups)
    return value + ("::" + f"{R.randint(1, 4095):x}" if value.count(":") < 6 else "")


def passport() -> tuple[str, str]:
    country, value = R.choice([
        ("US", lambda: "".join(R.choice(string.digits) for _ in range(9))),
        ("US", lambda: R.choice("ACEFGHJ") + "".join(R.choice(string.digits) for _ in range(8))),
        ("UK", lambda: "".join(R.choice(string.digits) for _ in range(9))),
        ("German", lambda: "C" + "".join(R.choice("CFGHJKLMNPRTVWXYZ0123456789") for _ in range(8))),
        ("Indian", lambda: R.choice("ABCJKLMNPRSTUVWZ") + "".join(R.choice(string.digits) for _ in range(7))),
        ("French", lambda: f"{R.randint(10, 99)}{R.choice(string.ascii_uppercase)}{R.choice(string.ascii_uppercase)}"
                           f"{R.randint(10000, 99999)}"),
        ("Canadian", lambda: "".join(R.choice(string.ascii_uppercase) for _ in range(2))
                             + str(R.randint(100000, 999999))),
        ("Australian", lambda: R.choice("NPE") + R.choice(string.ascii_uppercase) + str(R.randint(1000000, 9999999))),
        ("Chinese", lambda: "E" + str(R.randint(10000000, 99999999))),
        ("Italian", lambda: "Y" + R.choice(string.ascii_uppercase) + str(R.randint(1000000, 9999999))),
    ])
    return country, value()


def driver_license() -> tuple[str, str]:
    first, last = person()
    surname = (last.upper().replace("'", "") + "99999")[:5]
    choices: list[tuple[str, Callable[[], str]]] = [
        ("California", lambda: R.choice(string.ascii_uppercase) + str(R.randint(1000000, 9999999))),
        ("New York", lambda: f"{R.randint(100, 999)} {R.randint(100, 999)} {R.randint(100, 999)}"),
        ("Texas", lambda: str(R.randint(10000000, 99999999))),
        ("Florida", lambda: f"{last[0].upper()}{R.randint(100, 999)}-{R.randint(100, 999)}-{R.randint(10, 99)}-"
                            f"{R.randint(100, 999)}-0"),
        ("UK", lambda: f"{surname}{R.randint(0, 9)}{R.randint(1, 12):02d}{R.randint(1, 28):02d}{R.randint(0, 9)}"
                       f"{first[0].upper()}{R.choice(string.ascii_uppercase)}9{R.choice(string.ascii_uppercase)}"
                       f"{R.choice(string.ascii_uppercase)}"),
        ("Ontario", lambda: f"{last[0].upper()}{R.randint(1000, 9999)}-{R.randint(10000, 99999)}-"
                            f"{R.randint(10000, 99999)}"),
        ("Illinois", lambda: f"{last[0].upper()}{R.randint(100, 999)}-{R.randint(1000, 9999)}-{R.randint(1000, 9999)}"),
        ("Indian", lambda: f"{R.choice(['MH', 'DL', 'KA', 'TN'])}{R.randint(1, 50):02d} {R.randint(2005, 2023)}"
                           f"{R.randint(1000000, 9999999)}"),
        ("Australian (NSW)", lambda: str(R.randint(10000000, 99999999))),
    ]
    where, make = R.choice(choices)
    return where, make()


def verhoeff_complete(body: str) -> str:
    d = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
         [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
         [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
         [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
    p = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]
    base = [1, 5, 7, 6, 2, 8, 3, 0, 9, 4]
    for i in range(1, 8):
        p.append([base[p[i - 1][j]] for j in range(10)])
    inv = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]
    c = 0
    for i, ch in enumerate(reversed(body)):
        c = d[c][p[(i + 1) % 8][int(ch)]]
    return body + str(inv[c])


def national_id() -> tuple[str, str]:
    def cpf() -> str:
        n = [R.randint(0, 9) for _ in range(9)]
        for k in (10, 11):
            s = sum(v * w for v, w in zip(n, range(k, 1, -1), strict=False)) % 11
            n.append(0 if s < 2 else 11 - s)
        t = "".join(map(str, n))
        return pick(f"{t[:3]}.{t[3:6]}.{t[6:9]}-{t[9:]}", t)

    def dni() -> str:
        n = R.randint(10000000, 99999999)
        return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"

    def bsn() -> str:
        while True:
            n = [R.randint(0, 9) for _ in range(8)]
            s = sum(v * w for v, w in zip(n, range(9, 1, -1), strict=True))
            last = s % 11
            if last < 10 and n[0] != 0:
                return "".join(map(str, [*n, last]))

    def sin() -> str:
        t = luhn_complete(str(R.randint(1, 7)), 9)
        return pick(f"{t[:3]} {t[3:6]} {t[6:]}", f"{t[:3]}-{t[3:6]}-{t[6:]}")

    def aadhaar() -> str:
        t = verhoeff_complete(str(R.randint(2, 9)) + "".join(R.choice(string.digits) for _ in range(10)))
        return pick(f"{t[:4]} {t[4:8]} {t[8:]}", t, f"{t[:4]}-{t[4:8]}-{t[8:]}")

    def nino() -> str:
        letters = "ABCEGHJKLMNPRSTWXYZ"
        t = f"{R.choice(letters)}{R.choice(letters.replace('O', ''))}{R.randint(0, 999999):06d}{R.choice('ABCD')}"
        return pick(t, f"{t[:2]} {t[2:4]} {t[4:6]} {t[6:8]} {t[8]}")

    def pan() -> str:
        return "".join(R.choice(string.ascii_uppercase) for _ in range(3)) + "P" + R.choice(string.ascii_uppercase) \
            + f"{R.randint(0, 9999):04d}" + R.choice(string.ascii_uppercase)

    def codice_fiscale() -> str:
        cons = "BCDFGHLMNPRSTVZ"
        return "".join(R.choice(cons) for _ in range(6)) + f"{R.randint(40, 99)}" + R.choice("ABCDEHLMPRST") + \
            f"{R.randint(1, 71):02d}" + R.choice("ADFGHLMZ") + f"{R.randint(100, 999)}" \
            + R.choice(string.ascii_uppercase)

    def nric() -> str:
        return R.choice("ST") + f"{R.randint(0, 9999999):07d}" + R.choice("ABCDEFGHIZJ")

    def personnummer() -> str:
        t = luhn_complete(f"{R.randint(50, 99)}{R.randint(1, 12):02d}{R.randint(1, 28):02d}", 10)
        return f"{t[:6]}-{t[6:]}"

    def cn_id() -> str:
        body = f"{R.randint(110000, 659000)}{R.randint(1950, 2005)}{R.randint(1, 12):02d}{R.randint(1, 28):02d}" \
               f"{R.randint(0, 999):03d}"
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]

    name, make = R.choice([("CPF", cpf), ("DNI", dni), ("BSN", bsn), ("SIN", sin), ("Aadhaar number", aadhaar),
                           ("National Insurance number", nino), ("PAN", pan), ("codice fiscale", codice_fiscale),
                           ("NRIC", nric), ("personnummer", personnummer), ("ID card number", cn_id)])
    return name, make()


STREETS = ["Maple Avenue", "Oak Street", "Elm Drive", "Cedar Lane", "Birch Road", "Willow Court", "Hillcrest Way",
           "Station Road", "Church Lane", "Park Crescent", "Victoria Terrace", "Lakeview Boulevard"]


def address() -> str:
    n = R.randint(2, 2999)
    style = R.randrange(7)
    if style == 0:
        city, state, zipc = R.choice([("Springfield", "IL", "62704"), ("Austin", "TX", "78745"),
                                      ("Portland", "OR", "97214"), ("Columbus", "OH", "43215"),
                                      ("Tampa", "FL", "33611")])
        return f"{n} {R.choice(STREETS)}, {pick('Apt ' + str(R.randint(1, 40)) + ', ', '')}{city}, {state} {zipc}"
    if style == 1:
        pc = f"{R.choice(['SW', 'NW', 'M', 'LS', 'B', 'EH'])}{R.randint(1, 20)} " \
             f"{R.randint(1, 9)}{R.choice('ABDEFGHJ')}" \
             f"{R.choice('LNPQRSTUWX')}"
        return f"{pick('Flat ' + str(R.randint(1, 12)) + ', ', '')}{R.randint(1, 120)} {R.choice(STREETS)}, " \
               f"{R.choice(['London', 'Manchester', 'Leeds', 'Birmingham', 'Edinburgh'])} {pc}"
    if style == 2:
        return f"{R.choice(['Hauptstraße', 'Lindenweg', 'Gartenstraße', 'Schillerstraße'])} {R.randint(1, 80)}, " \
               f"{R.randint(10000, 99999)} {R.choice(['Berlin', 'Köln', 'Leipzig', 'Bremen'])}"
    if style == 3:
        return f"{R.randint(1, 90)} " \
               f"{R.choice(['rue des Lilas', 'avenue Victor Hugo', 'rue de la Paix', 'chemin du Moulin'])}, " \
               f"{R.randint(10, 95)}{R.randint(100, 999)} {R.choice(['Lyon', 'Nantes', 'Lille', 'Toulouse'])}"
    if style == 4:
        return f"{R.randint(1, 400)} {R.choice(STREETS)}, {R.choice(['Toronto, ON', 'Calgary, AB', 'Halifax, NS'])} " \
               f"{R.choice('KLMNT')}{R.randint(1, 9)}{R.choice('ABCEGH')} " \
               f"{R.randint(1, 9)}{R.choice('JKLMN')}{R.randint(1, 9)}"
    if style == 5:
        towns = ["Fitzroy VIC 3065", "Newtown NSW 2042", "Paddington QLD 4064"]
        return f"{R.randint(1, 200)} {R.choice(STREETS)}, {R.choice(towns)}"
    return f"{pick('House No. ', '#')}{R.randint(1, 300)}, {R.randint(1, 20)}th Cross, " \
           f"{R.choice(['Indiranagar', 'Koramangala', 'Jayanagar'])}, Bengaluru {R.randint(560001, 560099)}"


# --- sentences ----------------------------------------------------------------------------------------

def fill(templates: list[str], **values: str) -> str:
    return R.choice(templates).format(**values)


def positives() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def add(category: str, entity: str, text: str, field: str = "answer") -> None:
        out.append({"category": category, "entity": entity, "field": field, "text": text, "pii": True})

    for _ in range(26):
        first, last = person()
        add("email", "EMAIL_ADDRESS", fill([
            "If the tutorial doesn't work for you, drop me a line at {v} and I'll help.",
            "Q: Who should receive the invoice? A: Send it to {v}, she handles billing.",
            "Reply-To: {v}",
            "The form was submitted by {n} ({v}) on Tuesday.",
            "Rewrite this email signature: Best, {n} | {v} | Marketing",
            "My personal address is {v}; use it for the RSVP.",
            "Extract the sender from: 'From: {v} Subject: lunch?'",
            "You can always reach our tutor at {v}.",
        ], v=email(), n=f"{first} {last}"))
    for _ in range(24):
        add("spelled_email", "EMAIL_ADDRESS", fill([
            "To avoid spam I write my address as {v}.",
            "Contact me: {v}",
            "Please email the finished essay to {v} by Monday.",
            "Her address is {v} if you want to thank her.",
        ], v=spelled_email()))
    for _ in range(28):
        add("phone_international", "PHONE_NUMBER", fill([
            "You can WhatsApp me on {v} any evening.",
            "For the homestay, call the host family at {v}.",
            "Mobile: {v}",
            "My cousin's number is {v}, text him when you land.",
            "Reschedule by phoning the clinic's coordinator, Dr. {l}, on {v}.",
            "Answer: the caller left {v} as a call-back number.",
            "Emergency contact: {f} {l}, {v}",
        ], v=phone_intl(), f=R.choice(FIRST), l=R.choice(LAST)))
    for _ in range(28):
        add("phone_national", "PHONE_NUMBER", fill([
            "Ring me on {v} if the parcel doesn't arrive.",
            "Tel. {v}",
            "Her landline is {v} but she rarely answers it.",
            "Call {v} after 6pm and ask for {f}.",
            "Landlord: {f} {l}, phone {v}",
            "My number is {v}.",
        ], v=phone_national(), f=R.choice(FIRST), l=R.choice(LAST)))
    for _ in range(24):
        add("phone_us", "PHONE_NUMBER", fill([
            "Text me at {v} when you're outside.",
            "Client callback number: {v}",
            "Please call my cell, {v}, about the babysitting job.",
            "The tenant listed {v} as her phone number.",
            "cell {v}",
        ], v=phone_us()))
    for _ in range(22):
        add("us_ssn", "US_SSN", fill([
            "My social security number is {v}, can you check my benefits?",
            "SSN: {v}",
            "Employee record: {n}, SSN {v}, hired 2019.",
            "Fill in the W-4 with social security no. {v}.",
        ], v=ssn(), n=" ".join(person())))
    for _ in range(24):
        add("credit_card", "CREDIT_CARD", fill([
            "Charge it to my card {v}, expiry 09/27.",
            "Card number: {v}",
            "I paid with {v} and was billed twice.",
            "The order used the Visa ending in... actually the full number is {v}.",
            "Payment details: {v}, CVV on the back.",
        ], v=card()))
    for _ in range(24):
        add("iban", "IBAN_CODE", fill([
            "Please transfer the rent to IBAN {v}.",
            "Bank details: {n}, {v}",
            "My account is {v}, reference 'May'.",
            "Refund to {v} please.",
        ], v=iban(), n=" ".join(person())))
    for _ in range(24):
        add("ip_address", "IP_ADDRESS", fill([
            "My home server is at {v}, ssh in and look.",
            "The attacker connected from {v} at 03:12.",
            "Whitelist my laptop's address {v} in the firewall.",
            "Log line: Failed password for root from {v} port 52144",
            "My router's public IP is {v}.",
        ], v=public_ip()))
    for _ in range(26):
        country, value = passport()
        add("passport", "PASSPORT", fill([
            "My {c} passport number is {v}, issued in 2021.",
            "Passport No.: {v}",
            "Traveller: {n}, passport {v}, nationality {c}.",
            "Book the flight with passport number {v} please.",
            "She renewed her passport; the new number is {v}.",
        ], v=value, c=country, n=" ".join(person())))
    for _ in range(26):
        where, value = driver_license()
        add("driver_license", "DRIVER_LICENSE", fill([
            "My {w} driver's license number is {v}.",
            "Driving licence no. {v} ({w})",
            "The rental agent copied {n}'s licence number, {v}.",
            "DL#: {v}",
            "Please verify driver license {v} issued by {w}.",
        ], v=value, w=where, n=" ".join(person())))
    for _ in range(30):
        name, value = national_id()
        add("national_id", "NATIONAL_ID", fill([
            "My {k} is {v}, please update the records.",
            "{k}: {v}",
            "Applicant {n}, {k} {v}, requests a refund.",
            "For the tax form I used {k} {v}.",
            "Her {k} ({v}) was on the scanned form.",
        ], v=value, k=name, n=" ".join(person())))
    for _ in range(26):
        first, last = person()
        add("postal_address", "POSTAL_ADDRESS", fill([
            "I live at {a}, come by for the party on Saturday.",
            "Ship the replacement to my home address: {a}.",
            "{f} {l}'s home address is {a}.",
            "Send the signed lease to me at {a}.",
            "Our family moved to {a} last spring.",
            "Mailing address: {f} {l}, {a}",
        ], a=address(), f=first, l=last))
    for _ in range(24):
        first, last = (x.lower().replace("'", "") for x in person())
        add("created_by", "EMAIL_ADDRESS", pick(email(), email(), f"{first}{last[0]}@gmail.com",
                                                f"{first.capitalize()} {last.capitalize()} <{email()}>"),
            field="created_by")
    return out


def lookalikes() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def add(category: str, text: str, field: str = "answer") -> None:
        out.append({"category": category, "entity": None, "field": field, "text": text, "pii": False})

    doc_v4 = lambda: pick(f"192.0.2.{R.randint(1, 254)}", f"198.51.100.{R.randint(1, 254)}",  # noqa: E731
                          f"203.0.113.{R.randint(1, 254)}")
    for _ in range(36):
        add("documentation_ip", fill([
            "Point the client at {v} (a documentation address).",
            "In the example, the server listens on {v}:8080.",
            "Block the whole range {c} in the firewall rule.",
            "Set the DNS record to {v6}.",
            "Route traffic for {c6} through the tunnel.",
            "The log shows a connection from [{v6}]:443.",
            "Use 10.0.{a}.{b} for the internal host and 192.168.{a}.1 for the gateway.",
            "Loopback is 127.0.0.1 and ::1; the subnet mask is 255.255.255.0.",
            "In CIDR notation the block 172.16.0.0/12 is private.",
        ], v=doc_v4(), c=pick("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "203.0.113.128/25"),
            v6=pick(f"2001:db8::{R.randint(1, 999)}", f"2001:DB8:0:0:8:800:200C:{R.randint(1, 999):X}",
                    f"2001:0db8:85a3:0000:0000:8a2e:0370:{R.randint(1000, 7334)}", "2001:db8:cafe::17"),
            c6=pick("2001:db8::/32", "2001:db8:1234::/48", "2001:DB8:ACAD::/64"),
            a=str(R.randint(0, 255)), b=str(R.randint(1, 254))))
    for _ in range(30):
        first = R.choice(FIRST).lower()
        add("documentation_email", fill([
            "Send a test message to {f}@example.com to see the filter work.",
            "Configure the sender as noreply@{d}.",
            "Replace alice@example.org with your own address.",
            "For the exercise, use {f} dot smith at example dot com.",
            "The placeholder is <your-name>@example.net.",
            "Users log in with an address like user@mail.example.com.",
            "Emails to postmaster@{d} bounce in the sample output.",
            "Enter bob@test.example in the field.",
        ], f=first, d=pick("example.com", "example.org", "sub.example.net", "example.co.uk.example")))
    for _ in range(32):
        add("fictional_phone", fill([
            "In the film, the hero dials {v}.",
            "Call the sample support line at {v} in the script.",
            "Format this number: {v}",
            "The character's number, {v}, is a fictional one.",
        ], v=pick(f"555-01{R.randint(0, 99):02d}", f"(212) 555-01{R.randint(0, 99):02d}",
                  f"+1 312 555 01{R.randint(0, 99):02d}", f"1-800-555-01{R.randint(0, 99):02d}",
                  f"202.555.01{R.randint(0, 99):02d}", f"+1-415-555-01{R.randint(0, 99):02d}",
                  f"07700 900{R.randint(0, 999):03d}", f"+44 20 7946 0{R.randint(0, 999):03d}",
                  f"020 7946 0{R.randint(0, 999):03d}", f"0491 570 {R.randint(6, 159):03d}",
                  f"+44 7700 900{R.randint(0, 999):03d}")))
    for _ in range(34):
        a, b = R.randint(1000, 99999), R.randint(100, 9999)
        add("math_numbers", fill([
            "What is {a} multiplied by {b}?",
            "Reverse the digits of {n}.",
            "Is {n} divisible by 7?",
            "The population grew from {a},{b:03d} to {c},{b:03d} between 1990 and 2020.",
            "Sort these numbers: {a}, {b}, {c}, {n}",
            "The answer is {n} (computed as {a} + {c}).",
            "Compute {a} - {b} - {c} step by step.",
        ], a=str(a), b=b, c=str(R.randint(1000, 99999)), n=str(R.randint(10 ** 8, 10 ** 10))))
    for _ in range(28):
        add("codes_and_ids", fill([
            "ISBN {isbn} is the paperback edition.",
            "Update to version {ver} before running the script.",
            "Commit {sha} fixed the bug.",
            "The request id was {uuid}.",
            "Cite it as DOI 10.{d4}/{d5}.",
            "Order #{d6} shipped on 2023-04-12.",
            "Flight LH{d3} departs at 14:35 from gate B{d2}.",
            "The part number is SKU-{d6}-{d2}.",
            "Tracking number {ups} shows the parcel in transit.",
            "The colour #{hex} is a muted teal.",
            "RFC 5737 and RFC 3849 reserve addresses for documentation.",
            "Case No. 2:{d2}-cv-{d5} was dismissed.",
        ], isbn=pick("978-0-306-40615-7", "0-19-852663-6", "978-1-4028-9462-6"),
            ver=f"{R.randint(1, 20)}.{R.randint(0, 30)}.{R.randint(0, 99)}.{R.randint(100, 9999)}",
            sha="".join(R.choice("0123456789abcdef") for _ in range(40)),
            uuid="-".join("".join(R.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12)),
            d2=f"{R.randint(10, 99)}", d3=f"{R.randint(100, 999)}", d4=f"{R.randint(1000, 9999)}",
            d5=f"{R.randint(10000, 99999)}", d6=f"{R.randint(100000, 999999)}",
            ups=f"1Z{R.randint(100, 999)}AA{R.randint(10 ** 9, 10 ** 10 - 1)}",
            hex="".join(R.choice("0123456789ABCDEF") for _ in range(6))))
    for _ in range(28):
        add("dates_ranges_measures", fill([
            "The war lasted from {y1}-{y2}.",
            "Between {y1} and {y2} the town doubled in size.",
            "The 95% CI was ({x}-{z}).",
            "Meet on {y1}-0{m}-1{m} at 10:30.",
            "The coordinates are {lat}, {lon}.",
            "It costs $1,{d3}.{d2} or EUR 1.{d3},{d2}.",
            "Boil for 12-15 minutes at 180-200 C.",
            "Serial ports run at 115200 baud, 8N1.",
            "The distance is 384,400 km; light takes 1.28 s.",
            "Pages 1{d2}-2{d2} cover the topic.",
        ], y1=str(R.randint(1800, 2020)), y2=str(R.randint(1800, 2024)), x=f"{R.uniform(10, 50):.2f}",
            z=f"{R.uniform(50, 99):.2f}", m=str(R.randint(1, 9)), lat=f"{R.uniform(-60, 60):.4f}",
            lon=f"{R.uniform(-170, 170):.4f}", d3=f"{R.randint(100, 999)}", d2=f"{R.randint(10, 99)}"))
    for _ in range(30):
        add("public_places", fill([
            "The White House is at 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
            "The museum is located at 11 West 53rd Street, New York.",
            "Visit the Louvre, Rue de Rivoli, 75001 Paris.",
            "10 Downing Street is the Prime Minister's residence.",
            "The conference takes place at the convention centre, 747 Howard Street, San Francisco.",
            "Write the address of a famous landmark: 221B Baker Street is Sherlock Holmes's fictional home.",
            "The library moved to 5th Avenue and 42nd Street in 1911.",
            "Our store at {n} Main Street opens at 9am every day.",
            "The city hall's address is posted on its website.",
            "Name the street where the Beatles' Abbey Road studio is.",
        ], n=str(R.randint(2, 900))))
    for _ in range(28):
        add("id_words_without_values", fill([
            "What documents do I need to renew a passport?",
            "A driver's license is issued by the state's DMV.",
            "Explain what a social security number is used for.",
            "The passport number field accepts up to 9 characters.",
            "An IBAN starts with a two-letter country code and two check digits.",
            "In Brazil the CPF identifies taxpayers; it has 11 digits.",
            "The Aadhaar number has 12 digits and a Verhoeff check digit.",
            "Form I-9 asks for proof of identity such as a passport.",
            "A UK National Insurance number looks like two letters, six digits and a letter (e.g. QQ 12 34 56 C).",
            "Never share your credit card number over the phone.",
            "Use the test card 4111 1111 1111 1111 in the sandbox.",
            "The sample SSN 000-00-0000 is invalid by design.",
            "Passport photos must be 35 mm by 45 mm.",
            "Your licence class is shown in section 9 of the card.",
        ]))
    for _ in range(36):
        add("names_and_ui", fill([
            "Press Alt Tab to switch windows.",
            "Open the Command Palette with Ctrl Shift P.",
            "Click Save As and pick a folder.",
            "Select Page Setup from the File menu.",
            "Albert Einstein published the theory of relativity in 1905.",
            "Marie Curie won two Nobel Prizes.",
            "The Golden Gate Bridge opened in 1937.",
            "Abraham Lincoln delivered the Gettysburg Address.",
            "Use Control Panel to change the Screen Saver.",
            "The Toy Story films were made by Pixar.",
        ]))
    for _ in range(24):
        login = pick("octocat", "jdoe-dev", "maria-garcia", "kenji42", "ai-writer", "team-taxonomy", "ravi_k",
                     "sofia-costa-99", "Freya-L", "noah.m")
        add("created_by_login", login, field="created_by")
    return out


def main() -> None:
    rows = positives() + lookalikes()
    split = random.Random(1605)
    tune, held = [], []
    for category in sorted({str(r["category"]) for r in rows}):
        group = [r for r in rows if r["category"] == category]
        split.shuffle(group)
        cut = len(group) // 3
        held += group[:cut]
        tune += group[cut:]
    header = ("Fresh PII set for issue 16, written by make_pii_fresh.py (seeded generators, one template per "
              "sentence drawn at random). Split once, before any tuning: per category a seeded shuffle "
              "(random.Random(1605)), the first third to pii_holdout.jsonl, the rest to pii_fresh.jsonl.")
    for name, part in (("pii_fresh.jsonl", tune), ("pii_holdout.jsonl", held)):
        meta = {"header": header, "part": "held out: measured once, at the end" if "holdout" in name else "tuning"}
        lines = [json.dumps(meta)] + [json.dumps(r, ensure_ascii=False) for r in part]
        (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(name, sum(1 for r in part if r["pii"]), "positives", sum(1 for r in part if not r["pii"]), "look-alikes")


if __name__ == "__main__":
    main()
