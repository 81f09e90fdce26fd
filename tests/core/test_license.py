"""The `license` check: the licence line of attribution.txt, common spellings read as SPDX ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.config import ChecksConfig, LicenseConfig, parse_config
from checks.findings import Severity
from checks.license import licence_line, spdx_id
from checks.runner import Checker
from checks.sources import DiskSource
from tests.core.helpers import SKILL_V3, write_leaf


@pytest.mark.parametrize(("value", "expected"), [
    ("CC-BY-SA-4.0", "CC-BY-SA-4.0"),
    ("Apache 2.0", "Apache-2.0"),
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("apache-2.0", "Apache-2.0"),
    ("MIT License", "MIT"),
    ("public domain", "public-domain"),
    ("CC BY-NC-SA 4.0", "CC-BY-NC-SA-4.0"),
    ("Creative Commons Attribution-ShareAlike 4.0 International License", "CC-BY-SA-4.0"),
    ("Creative Commons Attribution 4.0 International (CC BY 4.0)", "CC-BY-4.0"),
    ("Creative Commons Attribution-NoDerivatives 4.0", "CC-BY-ND-4.0"),
    ("CC-BY-SA-3.0", "CC-BY-SA-3.0"),
    ("CC0", "CC0-1.0"),
    ("CDLA-Permissive-2.0", "CDLA-Permissive-2.0"),
    ("Open Government Licence v3.0", "OGL-UK-3.0"),
    ("IBM", None),
    ("Creative Commons License, Free and Open to be repurposed", None),
])
def test_common_spellings_read_as_spdx_ids(value: str, expected: str | None) -> None:
    assert spdx_id(value) == expected


@pytest.mark.parametrize("text", [
    "Title of work: x\nLicense of the work: MIT\n",
    "license_of_the_work: MIT\n",
    "[License of the work] = MIT\n",
    "Licence: MIT\n",
    "SPDX-License-Identifier: MIT\n",
])
def test_the_licence_line_in_its_variants(text: str) -> None:
    found = licence_line(text)
    assert found is not None and found[1] == "MIT"


def findings(tmp_path: Path, attribution: str, config: ChecksConfig | None = None) -> list[tuple[Severity, str]]:
    path = write_leaf(tmp_path, "compositional_skills/grammar/passive", SKILL_V3, attribution=attribution)
    report = Checker(config, only=["license"]).check_file(DiskSource(str(path)))
    return [(f.severity, f.message) for f in report.findings]


def test_open_licence_passes(tmp_path: Path) -> None:
    assert findings(tmp_path, "Title of work: x\nLicense of the work: Apache 2.0\n") == []


def test_missing_licence_line_is_an_error_with_the_fix(tmp_path: Path) -> None:
    ((severity, message),) = findings(tmp_path, "Title of work: x\nCreator names: me\n")
    assert severity is Severity.ERROR and "no licence line" in message and "License of the work: " in message


def test_non_commercial_or_no_derivatives_is_an_error(tmp_path: Path) -> None:
    ((severity, message),) = findings(tmp_path, "Title of work: x\nLicense of the work: CC BY-NC-SA 4.0\n")
    assert severity is Severity.ERROR and "line 2" in message and "commercial use or derivatives" in message
    ((severity, _),) = findings(tmp_path, "License of the work: Creative Commons NoDerivs\n")
    assert severity is Severity.ERROR


def test_unknown_or_unlisted_licence_is_a_warning_for_a_human(tmp_path: Path) -> None:
    ((severity, message),) = findings(tmp_path, "License of the work: IBM\n")
    assert severity is Severity.WARNING and "not a licence we recognise" in message
    ((severity, message),) = findings(tmp_path, "License of the work: GPL-3.0\n")
    assert severity is Severity.WARNING and "GPL-3.0 is not in this repository's list" in message


def test_the_list_is_configurable(tmp_path: Path) -> None:
    config = parse_config("checks:\n  licenses: {allowed: [GPL-3.0]}\n").checks
    assert config.licenses == LicenseConfig(allowed=("GPL-3.0",))
    assert findings(tmp_path, "License of the work: GPL-3.0\n", config) == []
    ((severity, _),) = findings(tmp_path, "License of the work: MIT\n", config)
    assert severity is Severity.WARNING


def test_self_authored_content_needs_no_licence_line(tmp_path: Path) -> None:
    assert findings(tmp_path, "Self-authored\n") == []
    assert findings(tmp_path, "Title of work: mine\nCreator names: me (self authored)\n") == []
    ((severity, _),) = findings(tmp_path, "Self-authored\nLicense of the work: CC BY-NC 4.0\n")
    assert severity is Severity.ERROR  # a licence line, when there is one, is still read
