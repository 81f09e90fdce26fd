"""`pii`: the labelled set (recall and clean-case errors), masking, placeholders and positions."""

from __future__ import annotations

from typing import Any

import pytest

from checks.config import ChecksConfig, PiiConfig
from checks.content.pii import find_pii, luhn_valid, mask
from checks.context import CheckContext
from checks.findings import Severity
from tests.content.conftest import qna, skill_yaml

pytestmark = pytest.mark.slow
CFG = PiiConfig()


def all_errors(texts: list[str]) -> list[list[tuple[str, str]]]:
    return [[(hit.entity, value) for sev, hit, value in hits if sev is Severity.ERROR]
            for hits in find_pii(texts, CFG.block, CFG.warn)]


def errors(text: str) -> list[tuple[str, str]]:
    return all_errors([text])[0]


def test_labelled_set_recall_and_clean_errors(pii_cases: list[dict[str, Any]]) -> None:
    positives = [c for c in pii_cases if c["pii"]]
    clean = [c for c in pii_cases if not c["pii"]]
    assert len(positives) >= 200 and len(clean) >= 200
    found = all_errors([c["text"] for c in pii_cases])
    missed = [c["text"] for c, errs in zip(pii_cases, found, strict=True)
              if c["pii"] and c["entity"] not in {e for e, _ in errs}]
    flagged = [c["text"] for c, errs in zip(pii_cases, found, strict=True) if not c["pii"] and errs]
    assert 1 - len(missed) / len(positives) >= 0.95, missed
    assert len(flagged) / len(clean) <= 0.02, flagged


@pytest.mark.parametrize("text", [
    "write to john dot doe at gmail dot com",
    "mail jane [at] protonmail [dot] com",
    "call +49 30 2847 5519 tomorrow",
    "card 2221 0012 3456 7896",
])
def test_obfuscated_and_international_forms(text: str) -> None:
    assert errors(text)


@pytest.mark.parametrize("text", [
    "write to jane.doe@example.com", "write to jane dot doe at example dot com", "call 555-0123",
    "the host 192.0.2.10", "the host 2001:db8::7",
    "published in 1998 and 2004", "ISBN 978-0-306-40615-7", "upgrade to version 10.0.19045.3693",
    "products at Apple. It was good", "95% CI (88.29-99.59)",
])
def test_placeholders_and_look_alikes_are_not_errors(text: str) -> None:
    assert errors(text) == []


def test_luhn_decides_card_numbers() -> None:
    assert luhn_valid("4539 1488 0343 6467")
    assert not luhn_valid("4539 1488 0343 6468")
    assert errors("card 4539 1488 0343 6468") == []


def test_mask_never_shows_the_value() -> None:
    assert mask("john.doe@gmail.com", "EMAIL_ADDRESS") == "j***@gmail.com"
    assert mask("+1 415 867 5309", "PHONE_NUMBER") == "+* *** *** **09"
    assert mask("Maria Garcia", "PERSON") == "Maria Garcia"  # names as written: the triager judges them
    assert mask("john dot doe at gmail dot com", "EMAIL_ADDRESS") == "j***@gmail.com"


def test_finding_names_type_position_and_masks() -> None:
    text = skill_yaml([("What is the weather?", "Sunny."),
                       ("Who do I ask?", "Email maria.garcia@gmail.com or call (415) 867-5309.")])
    from checks.content.pii import check_pii

    found = list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), CheckContext(ChecksConfig())))
    assert [(f.check, f.severity) for f in found] == [("pii", Severity.ERROR)] * 2
    email, phone = found
    assert "EMAIL_ADDRESS" in email.message and "m***@gmail.com" in email.message
    assert "maria.garcia@gmail.com" not in email.message and "867-5309" not in phone.message
    line = text.splitlines()[email.line - 1]
    assert line[email.column - 1:].startswith("maria.garcia@")
    assert text.splitlines()[phone.line - 1][phone.column - 1:].startswith("(415)")
    assert email.yaml_path == ".seed_examples[1].answer"


def test_allow_list_values_are_not_reported() -> None:
    from checks.content.pii import check_pii

    text = skill_yaml([("Who wrote it?", "Ask team@acme-corp.com.")])
    ctx = CheckContext(ChecksConfig(pii=PiiConfig(allow=("team@acme-corp.com",))))
    assert list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), ctx)) == []


@pytest.mark.parametrize("created_by", ["someone@gmail.com", "Jane Roe <jane.roe@outlook.com>"])
def test_an_email_in_created_by_is_an_error_at_that_key(created_by: str) -> None:
    from checks.content.pii import check_pii

    text = skill_yaml([("What is 2 + 2?", "4")]).replace("created_by: someone", f"created_by: {created_by}")
    found = list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), CheckContext(ChecksConfig())))
    assert [(f.severity, f.yaml_path, f.line) for f in found] == [(Severity.ERROR, ".created_by", 2)]
    assert "GitHub login" in found[0].message and "@gmail.com" not in found[0].message.replace("***@gmail.com", "")


@pytest.mark.parametrize("created_by", ["octocat", "jane-roe", "docs@example.com"])
def test_a_login_in_created_by_is_clean(created_by: str) -> None:
    from checks.content.pii import check_pii

    text = skill_yaml([("What is 2 + 2?", "4")]).replace("created_by: someone", f"created_by: {created_by}")
    assert list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), CheckContext(ChecksConfig()))) == []


def test_person_warns_in_skills_not_in_knowledge() -> None:
    from checks.content.pii import check_pii

    text = skill_yaml([("Who signed the lease?", "The tenant Maria Garcia signed it.")])
    skill = list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), CheckContext(ChecksConfig())))
    assert [(f.severity, "PERSON" in f.message) for f in skill] == [(Severity.WARNING, True)]
    knowledge = list(check_pii(qna("knowledge/x/y/qna.yaml", text), CheckContext(ChecksConfig())))
    assert knowledge == []


def test_one_finding_per_value_and_no_people_in_grounded_contexts() -> None:
    from checks.content.pii import check_pii

    text = skill_yaml([("Mail maria.garcia@gmail.com", "Yes, maria.garcia@gmail.com it is.")]).replace(
        '  - question: "Mail', '  - context: "The tenant Maria Garcia signed the lease."\n    question: "Mail')
    found = list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), CheckContext(ChecksConfig())))
    assert len(found) == 1 and "(2 times in this file)" in found[0].message
    assert found[0].yaml_path == ".seed_examples[0].question"


def test_fresh_tuning_set_recall_and_false_errors() -> None:
    """The two thirds of the fresh set used while tuning (the held-out third is measured by the bench)."""
    from tests.content.conftest import labelled, pii_outcome

    cases = labelled("pii_fresh.jsonl")
    positives = [c for c in cases if c["pii"]]
    clean = [c for c in cases if not c["pii"]]
    assert len({c["category"] for c in positives}) >= 12
    missed, flagged, _ = pii_outcome(cases)
    assert 1 - len(missed) / len(positives) >= 0.97, [c["text"] for c in missed]
    assert len(flagged) / len(clean) <= 0.01, [c["text"] for c in flagged]


@pytest.mark.parametrize(("text", "entity"), [
    ("Ring me on 0161 496 0234? No: my real mobile is 07911 123456.", "PHONE_NUMBER"),
    ("Mi número es +52 55 1234 5678.", "PHONE_NUMBER"),
    ("My passport number is 533380006.", "PASSPORT"),
    ("Driving licence: MORGA753116SM9IJ", "DRIVER_LICENSE"),
    ("National Insurance number AB 12 34 56 C", "NATIONAL_ID"),
    ("CPF 529.982.247-25", "NATIONAL_ID"),
    ("I live at 42 Maple Avenue, Springfield, IL 62704.", "POSTAL_ADDRESS"),
    ("SSN 123-45-6780", "US_SSN"),
])
def test_fresh_categories_are_errors(text: str, entity: str) -> None:
    assert entity in {e for e, _ in errors(text)}


@pytest.mark.parametrize("text", [
    "Block 203.0.113.0/24 and 2001:db8:1234::/48 at the edge.", "Call 020 7946 0321 in the script.",
    "Dial 07700 900123 in the play.", "The White House is at 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
    "Use the test card 4242 4242 4242 4242.", "An example NINO is QQ 12 34 56 C.", "Compute 53002 - 3232 - 14711.",
])
def test_documentation_values_in_every_notation_are_clean(text: str) -> None:
    assert errors(text) == []


def test_person_is_shown_as_written_and_ui_words_are_not_people() -> None:
    from checks.content.pii import check_pii

    text = skill_yaml([("How do I switch windows?", "Press Alt Tab, or open the Command Palette with Ctrl Shift P."),
                       ("Who signed the lease?", "The tenant Maria Garcia signed it.")])
    found = list(check_pii(qna("compositional_skills/x/y/qna.yaml", text), CheckContext(ChecksConfig())))
    assert [f.message.split("\u201d")[0] for f in found] == ["PERSON \u201cMaria Garcia"]
    assert found[0].severity is Severity.WARNING


def test_held_out_third_meets_the_targets() -> None:
    """Measured once after tuning (recall 0.983, no false error); kept as a guard against regressions."""
    from tests.content.conftest import labelled, pii_outcome

    cases = labelled("pii_holdout.jsonl")
    missed, flagged, _ = pii_outcome(cases)
    assert 1 - len(missed) / sum(1 for c in cases if c["pii"]) >= 0.97, [c["text"] for c in missed]
    assert len(flagged) / sum(1 for c in cases if not c["pii"]) <= 0.01, [c["text"] for c in flagged]


@pytest.mark.parametrize("text", [
    "The product code 5425-2334 refers to the blue model.", "Is 982 451 653 a prime number?",
    "Claim number 0493-771-2208 is still pending.", "The gravitational constant is G = 6.67430(15) x 10^-11.",
    "| Ticket | Opened |\n|---|---|\n| 312-558-0173 | March |", "An example NINO is QQ 12 34 56 C.",
    "Our store at 42 Main Street opens at 9am.", "In the stories, Sherlock Holmes lived at 221B Baker Street.",
])
def test_codes_and_public_addresses_are_not_errors(text: str) -> None:
    """Issue 25: look-alikes written by an author who never saw the detector."""
    assert errors(text) == []


@pytest.mark.parametrize(("text", "entity"), [
    ("Text me on 07912 483207 tonight.", "PHONE_NUMBER"),  # a UK mobile outside Ofcom's drama range
    ("I'm at 42 Elm Street, Springfield, and my heater stopped working.", "POSTAL_ADDRESS"),
    ("My grandmother lives alone at 603 Oakhurst Avenue, Tulsa.", "POSTAL_ADDRESS"),
    ("| Guest | Passport |\n|---|---|\n| Mei Lin | E38291647 |", "PASSPORT"),
    ("| Name | Aadhaar |\n|---|---|\n| Vikram Singh | 6483 0195 7273 |", "NATIONAL_ID"),
    ("My SSN is 409183572; will the portal accept it?", "US_SSN"),
    ("Meine Steuer-ID ist 86095214765.", "NATIONAL_ID"),
    ("My Florida licence is S530-460-67-812-0.", "DRIVER_LICENSE"),
])
def test_independent_authors_misses_are_found(text: str, entity: str) -> None:
    assert entity in [e for e, _ in errors(text)]


def test_independent_set_recall_and_look_alikes() -> None:
    """The tuning part of the set written apart (issue 25): measured 1.000 recall, no look-alike raising an
    error; the sealed part is measured once, in benchmarks/bench_content.py."""
    from tests.content.conftest import labelled, pii_outcome

    cases = labelled("pii_independent.jsonl")
    missed, flagged, _ = pii_outcome(cases)
    assert len({c["field"] for c in cases}) == 4  # answers, questions, contexts and created_by
    assert 1 - len(missed) / sum(c["pii"] for c in cases) >= 0.97, missed
    assert len(flagged) / sum(not c["pii"] for c in cases) <= 0.01, flagged


def test_an_instruction_is_not_a_name() -> None:
    """Issue 25: "Convert Qiskit" (a verb and a tool) was reported as a person's name."""
    found = find_pii(["Convert Qiskit circuits to OpenQASM.", "Ask Maria Lopez for the keys."], CFG.block,
                     ["PERSON"])
    assert [[value for _, _, value in hits] for hits in found] == [[], ["Maria Lopez"]]
