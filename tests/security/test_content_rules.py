"""Hostile text against the content rules of issue 25: table headers read as cues, and the abuse rules.

A contributor controls every byte: long runs that invite backtracking, ragged or endless tables, and
pipes everywhere must give an answer (no exception, no catastrophic regex backtracking)."""

from __future__ import annotations

import pytest

from checks.content.abuse_rules import hostile_rule
from checks.content.pii_patterns import addresses, column_header, identifiers, phones


@pytest.mark.parametrize("text", [
    "|" * 5000, "| a |\n" * 3000, "| h |\n|---|\n" + "| 07912 483207 | x | y |\n" * 3000,
    "| Passport |\n|---|\n|\n|---|\n| E38291647 |", "|---|\n" * 2000, "x |" + " |" * 4000 + "\n",
])
def test_ragged_and_endless_tables_give_an_answer(text: str) -> None:
    for finder in (phones, identifiers, addresses):
        assert all(0 <= hit.start < hit.end <= len(text) for hit in finder(text))
    assert all(isinstance(column_header(text, at), str) for at in range(0, len(text), 997))


def test_a_header_with_fewer_cells_than_the_row_names_nothing() -> None:
    text = "| Passport |\n|---|\n| Mei | E38291647 |"
    assert column_header(text, text.index("E3")) == ""
    assert [h.entity for h in identifiers(text)] == []


@pytest.mark.parametrize("text", [
    "you " * 5000 + "!", "all " * 5000 + "are", "people with " + "a " * 5000 + "are criminals", "what a " * 3000,
    "'" * 5000, "\u201c" * 3000 + "x", "Mexicans are " + "very " * 5000,
])
def test_abuse_rules_answer_on_runs_that_invite_backtracking(text: str) -> None:
    assert hostile_rule(text) in (None, "generalisation about a group", "call to exclude or harm a group",
                                  "threat or harassment", "insult")
