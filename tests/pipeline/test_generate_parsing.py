"""The teacher's text parsers: well-formed, sloppy and malformed output."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.generate.parsing import (
    expected_score,
    parse_answer,
    parse_qa_pairs,
    parse_questions,
    parse_score,
    parse_yes_no,
    yes_share,
)


def test_questions_from_numbered_and_bulleted_lines_with_chatter_around():
    text = ("Sure! Here are some questions:\n1. What is a synonym of big?\n2) Which word means quick?\n"
            "- Name a word that means tiny.\nI hope this helps.")
    assert parse_questions(text, 5) == ["What is a synonym of big?", "Which word means quick?",
                                        "Name a word that means tiny."]


def test_questions_limit_duplicates_and_junk_lines():
    text = "1. What is a synonym of big?\n2. What is a synonym of big?\n3. ??\n4. Which word means quick?\n5. More"
    assert parse_questions(text, 5) == ["What is a synonym of big?", "Which word means quick?"]
    assert parse_questions(text, 1) == ["What is a synonym of big?"]


def test_questions_malformed_gives_nothing():
    assert parse_questions("I cannot help with that.", 3) == []
    assert parse_questions("", 3) == []
    assert parse_questions(None, 3) == []


def test_score_forms():
    assert parse_score("Score: 4") == 4
    assert parse_score("I would give it a **Rating: 2/5** because") == 2
    assert parse_score("5") == 5
    assert parse_score("score=3.") == 3


def test_score_malformed():
    assert parse_score("The answer is good.") is None
    assert parse_score("Score: 9") is None
    assert parse_score("It has 3 parts and 4 steps") is None
    assert parse_score(None) is None


def test_yes_no():
    assert parse_yes_no("Yes.") is True
    assert parse_yes_no("no, it is unclear") is False
    assert parse_yes_no("The question is fine, yes") is True
    assert parse_yes_no("I think that, after a long consideration of the matter, yes") is None
    assert parse_yes_no("Maybe") is None
    assert parse_yes_no("") is None


def test_probability_judgements():
    assert yes_share([0.1, 0.3]) == 0.25
    assert yes_share([0.0, 0.0]) is None and yes_share(None) is None
    assert expected_score([0.0, 0.0, 0.0, 0.1, 0.1]) == 4.5
    assert expected_score([0.2, 0.0, 0.0, 0.0, 0.0]) == 1.0
    assert expected_score([0.0] * 5) is None


def test_answer():
    assert parse_answer("  Eight planets.\n") == "Eight planets."
    assert parse_answer(" \n ... ") is None
    assert parse_answer(None) is None


def test_qa_pairs_multiline_answers_and_orphans():
    text = ("Q: How many planets are there?\nA: Eight.\n"
            "Question 2: What is Pluto?\nAnswer 2: A dwarf planet,\nreclassified in 2006.\n"
            "Q: What has no answer?\n"
            "Q: Which is the hottest planet?\nA: Venus.")
    assert parse_qa_pairs(text, 10) == [
        ("How many planets are there?", "Eight."),
        ("What is Pluto?", "A dwarf planet,\nreclassified in 2006."),
        ("Which is the hottest planet?", "Venus."),
    ]
    assert len(parse_qa_pairs(text, 2)) == 2


def test_qa_pairs_malformed():
    assert parse_qa_pairs("The Sun is a star. Planets orbit it.", 3) == []
    assert parse_qa_pairs("A: an answer with no question", 3) == []
    assert parse_qa_pairs(None, 3) == []


@given(st.text(max_size=400))
def test_parsers_never_raise_on_arbitrary_text(text):
    for found in (parse_questions(text, 3), parse_qa_pairs(text, 3)):
        assert isinstance(found, list) and len(found) <= 3
    assert parse_score(text) in (None, 1, 2, 3, 4, 5)
    assert parse_yes_no(text) in (None, True, False)
