"""The `license` check: the licence line of `attribution.txt`, read as an SPDX id.

Upstream's FAQ asks for sources under open data licences that allow commercial use and
derivatives, since the taxonomy trains a model anyone may use. The line is free text written by
contributors (`Apache 2.0`, `CC BY-NC-SA 4.0`, `Creative Commons Attribution 4.0 International`),
so common spellings are mapped to SPDX ids before the id is judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.context import CheckContext
from checks.findings import Finding, Severity
from checks.qna import QnaFile

# The licence line: `License of the work: X` as upstream's template writes it, and the variants
# contributors use (`License:`, `Licence:`, `license_of_the_work:`, `[License of the work] = X`).
_LINE = re.compile(r"^\s*(?:\[\s*)?licen[cs]e(?:[\s_]+of[\s_]+(?:the[\s_]+)?work)?(?:\s*\])?\s*[:=]\s*(.*)$",
                   re.IGNORECASE)
_SPDX_LINE = re.compile(r"^\s*SPDX-License-Identifier\s*:\s*(.*)$", re.IGNORECASE)

# SPDX ids we recognise beyond the Creative Commons family, by their lower-case spelling.
_KNOWN_IDS = {i.lower(): i for i in (
    "Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense", "0BSD", "CC0-1.0",
    "CDLA-Permissive-1.0", "CDLA-Permissive-2.0", "CDLA-Sharing-1.0", "PDDL-1.0", "ODC-By-1.0",
    "ODbL-1.0", "OGL-UK-3.0", "GFDL-1.3", "GPL-2.0", "GPL-3.0", "LGPL-3.0", "MPL-2.0",
)}
# Common spellings that are not SPDX ids, after lower-casing and collapsing punctuation to spaces.
_SPELLINGS = {
    "apache 2 0": "Apache-2.0", "apache 2": "Apache-2.0", "apache license 2 0": "Apache-2.0",
    "apache license version 2 0": "Apache-2.0", "apache license": "Apache-2.0", "apache": "Apache-2.0",
    "apache software license 2 0": "Apache-2.0", "asl 2 0": "Apache-2.0",
    "mit license": "MIT", "the mit license": "MIT",
    "public domain": "public-domain", "cc0": "CC0-1.0", "cc zero": "CC0-1.0", "creative commons zero": "CC0-1.0",
    "cdla permissive 2 0": "CDLA-Permissive-2.0", "cdla permissive 1 0": "CDLA-Permissive-1.0",
    "open government licence v3 0": "OGL-UK-3.0", "open government license v3 0": "OGL-UK-3.0",
    "gnu free documentation license": "GFDL-1.3", "gfdl": "GFDL-1.3",
}
_CC = re.compile(r"\b(cc|creative commons)\b")
_CC_PARTS = (("by", r"\b(by|attribution)\b"), ("nc", r"\b(nc|non ?commercial)\b"),
             ("nd", r"\b(nd|no ?derivs|no ?derivatives)\b"), ("sa", r"\b(sa|share ?alike)\b"))
# Content the contributor wrote needs no licence line: it comes in under the repository's own
# licence by the sign-off (upstream's convention is an attribution.txt saying "self-authored").
_SELF_AUTHORED = re.compile(r"\bself[- ]?(authored|written|created|generated)\b|\b(my )?own work\b|"
                            r"\boriginal work\b", re.IGNORECASE)
_RESTRICTED = re.compile(r"non ?commercial|no ?deriv", re.IGNORECASE)


def licence_line(text: str) -> tuple[int, str] | None:
    """The 1-based line number and the value of the licence line, or None when there is none."""
    for number, line in enumerate(text.splitlines(), 1):
        match = _LINE.match(line) or _SPDX_LINE.match(line)
        if match:
            return number, match.group(1).strip()
    return None


def spdx_id(value: str) -> str | None:
    """The SPDX id a licence value means (`Apache 2.0` -> `Apache-2.0`), None when unrecognised."""
    words = " ".join(re.sub(r"[^a-z0-9]+", " ", value.lower()).split())
    first = value.strip().split()[0].rstrip(".,;") if value.strip() else ""
    if first.lower() in _KNOWN_IDS:
        return _KNOWN_IDS[first.lower()]
    if words in _SPELLINGS:
        return _SPELLINGS[words]
    if words.startswith("cc0") or "cc zero" in words:
        return "CC0-1.0"
    if _CC.search(words):
        parts = [name for name, pattern in _CC_PARTS if re.search(pattern, words)]
        if not parts or parts[0] != "by":
            return None
        version = re.search(r"\b([1-4]) ?0\b", words)
        return "CC-" + "-".join(p.upper() for p in parts) + f"-{version.group(1) if version else '4'}.0"
    for spelling, spdx in _SPELLINGS.items():
        if words.startswith(spelling + " "):
            return spdx
    return None


def check_license(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    """Missing line or a non-commercial / no-derivatives licence: error; outside the list: warning."""
    if qna.version <= 1:
        return
    raw = qna.source.sibling("attribution.txt")
    if raw is None or not raw.strip():
        return  # the attribution check reports the missing or empty file
    text = raw.decode("utf-8", errors="replace")
    allowed = ctx.config.licenses.allowed
    example = f"`License of the work: {allowed[0] if allowed else 'CC-BY-4.0'}`"
    found = licence_line(text)
    if found is None and _SELF_AUTHORED.search(text):
        return
    if found is None or not found[1]:
        yield qna.finding("license", Severity.ERROR,
                          "attribution.txt has no licence line: add one such as "
                          f"{example} (an SPDX id), naming the licence the source is published under, "
                          "or write `Self-authored` if you wrote the content yourself")
        return
    number, value = found
    shown = value if len(value) <= 60 else value[:57] + "..."
    spdx = spdx_id(value)
    where = f"attribution.txt line {number}"
    if _RESTRICTED.search(value) or re.search(r"-(NC|ND)\b", spdx or ""):
        yield qna.finding("license", Severity.ERROR,
                          f"{where}: {shown!r} forbids commercial use or derivatives, and the taxonomy "
                          "trains a model anyone may use: pick a source under an open licence "
                          f"({', '.join(allowed[:5])}, ...)")
    elif spdx is None:
        yield qna.finding("license", Severity.WARNING,
                          f"{where}: {shown!r} is not a licence we recognise: write its SPDX id "
                          f"(e.g. {example}); a reviewer will check the source allows reuse")
    elif spdx not in allowed:
        yield qna.finding("license", Severity.WARNING,
                          f"{where}: {spdx} is not in this repository's list of accepted licences "
                          "(checks.licenses.allowed): a reviewer will check it allows commercial use "
                          "and derivatives")
