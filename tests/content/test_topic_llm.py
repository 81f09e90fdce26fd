"""`topic` and `llm-text`: rules with their spans, advice versus facts, chatbot phrasing, model names."""

from __future__ import annotations

import pytest

from checks.config import ChecksConfig
from checks.content.llm_text import check_llm_text
from checks.content.topic import check_topic, rule_hits, similar_topics
from checks.context import CheckContext
from checks.findings import Severity
from tests.content.conftest import qna, skill_yaml

CTX = CheckContext(ChecksConfig())
PATH = "compositional_skills/x/y/qna.yaml"


@pytest.mark.parametrize(("text", "topic"), [
    ("```python\nprint(1)\n```", "code"),
    ("Run this:\n$ rm -rf /tmp/cache", "code (shell command)"),
    ("sudo systemctl restart nginx", "code (shell command)"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {}", "code (manifest)"),
    ("def area(r):\n    return 3.14 * r * r", "code"),
    ("Tell me a joke about cats.", "jokes"),
    ("Knock, knock. Who's there?", "jokes"),
    ("Write a haiku about the sea.", "poems"),
])
def test_rules_name_the_topic(text: str, topic: str) -> None:
    assert topic in [t for t, _, _ in rule_hits(text)]


@pytest.mark.parametrize("text", [
    "The poem was written in 1850 by Tennyson.", "Python is a programming language created by Guido van Rossum.",
    "Rhyming words for cat: hat, bat, mat.", "The dollar sign $ marks prices.",
])
def test_rules_leave_plain_prose_alone(text: str) -> None:
    assert list(rule_hits(text)) == []


@pytest.mark.slow
def test_advice_is_flagged_and_facts_are_not() -> None:
    advice, fact, unrelated = similar_topics([
        "Should I buy crypto?\nYou should invest all your savings in this cryptocurrency now, it will make you rich.",
        "What is aspirin?\nAspirin is a medication used to reduce pain, fever and inflammation.",
        "Convert 5 km to miles.\nAbout 3.1 miles.",
    ])
    assert advice is not None and advice[0] == "financial advice"
    assert fact is None and unrelated is None


@pytest.mark.slow
def test_topic_finding_quotes_the_span_at_its_position() -> None:
    text = skill_yaml([("How do I clean my disk?", "Open a terminal.\n$ rm -rf ~/cache")])
    found = [f for f in check_topic(qna(PATH, text), CTX) if f.message.startswith("code (shell command)")]
    assert len(found) == 1 and found[0].severity is Severity.WARNING
    assert "\u201c$ rm -rf ~/cache\u201d" in found[0].message
    assert found[0].yaml_path == ".seed_examples[0].answer"


def test_llm_phrasing_and_model_names() -> None:
    text = skill_yaml([
        ("What is 2+2?", "Certainly! Here's the answer: 4. I hope this helps!"),
        ("Who wrote this?", "It was drafted with ChatGPT and checked with GPT-4."),
        ("What is Gemini?", "Gemini is the third sign of the zodiac."),
    ])
    found = list(check_llm_text(qna(PATH, text), CTX))
    spans = [f.message.split("\u201c")[1].split("\u201d")[0] for f in found]
    assert spans == ["Certainly! Here's", "I hope this helps", "ChatGPT", "GPT-4"]
    assert all(f.severity is Severity.WARNING and f.check == "llm-text" for f in found)
    assert "LLMs" in found[2].message
    assert found[2].line == 8 and text.splitlines()[7][found[2].column - 1:].startswith("ChatGPT")


def test_gemini_the_model_is_flagged_in_model_talk() -> None:
    text = skill_yaml([("Which model wrote this?", "The AI model Gemini wrote it.")])
    assert ["Gemini" in f.message for f in check_llm_text(qna(PATH, text), CTX)] == [True]


@pytest.mark.parametrize("text", [
    "That was a fucking mess.", "Shut up, you pathetic moron.", "I know where you live and I will make you pay.",
    "Refugees are vermin and should be thrown out.",
])
def test_hostile_and_profane_sentences_are_warnings_quoting_the_sentence(text: str) -> None:
    answer = f"Here is the reply. {text} Thanks for asking."
    found = [f for f in check_topic(qna(PATH, skill_yaml([("What did they write?", answer)])), CTX)
             if f.message.startswith("hostile or profane language")]
    assert len(found) == 1 and found[0].severity is Severity.WARNING and found[0].check == "topic"
    assert f"\u201c{text}\u201d" in found[0].message
    assert found[0].yaml_path == ".seed_examples[0].answer"


@pytest.mark.parametrize("text", [
    "Scunthorpe is a town in North Lincolnshire.", "Kill the process and restart the service.",
    "The Holocaust was the genocide of six million Jews.", "Hate speech laws differ between countries.",
])
def test_look_alikes_are_not_hostile(text: str) -> None:
    found = check_topic(qna(PATH, skill_yaml([("What is this?", text)])), CTX)
    assert not [f for f in found if f.message.startswith("hostile or profane language")]


@pytest.mark.slow
def test_abuse_tuning_set_recall_and_precision() -> None:
    """The two thirds of the abuse set used to choose the threshold (the held-out third is for the bench)."""
    from tests.content.conftest import abuse_outcome, labelled

    tp, fn, fp, _ = abuse_outcome(labelled("abuse_tune.jsonl"))
    assert tp / (tp + fn) >= 0.8 and tp / (tp + fp) >= 0.9


@pytest.mark.slow
def test_abuse_held_out_third() -> None:
    """Measured once after choosing the threshold (recall 0.730, precision 1.000); 1.000 / 1.000 after issue
    25's rules, whose tuning saw its misses, so no longer a held-out figure; a regression guard."""
    from tests.content.conftest import abuse_outcome, labelled

    tp, fn, fp, _ = abuse_outcome(labelled("abuse_holdout.jsonl"))
    assert tp / (tp + fn) >= 0.7 and tp / (tp + fp) >= 0.95


@pytest.mark.parametrize("text", [
    "All Mexicans are criminals, every single one of them.", "Atheists have no morals and can't be trusted.",
    "Gay people should be banned from teaching.", "Keep foreigners out of our neighbourhood.",
    "Whoever wrote this answer is a fool.", "Learn to read, you dummy.", "Seriously, are you thick?",
    "Delete that review or I'll burn your house down.", "This dickhead forgot to close the file handle.",
])
def test_generalisations_insults_and_threats_are_hostile(text: str) -> None:
    """Issue 25: what a bag of swear words misses, found by the rules of checks.content.abuse_rules."""
    found = check_topic(qna(PATH, skill_yaml([("What did they write?", text)])), CTX)
    assert [f for f in found if f.message.startswith("hostile or profane language")]


@pytest.mark.parametrize("text", [
    "Knock knock. Who's there? Defense. Defense who? Defense has a hole in it \u2014 so our dog got loose.",
    "The bitch whelped a litter of six healthy Labrador puppies.",
    "The penis and testes are the external male reproductive organs.",
    "It's simply false to say that all immigrants are criminals; studies show otherwise.",
    "The historian quotes a pamphlet claiming that 'immigrants are a plague upon the nation'.",
])
def test_jokes_breeding_anatomy_and_counter_speech_are_not_hostile(text: str) -> None:
    """The knock-knock joke of upstream PR 389 is a joke (the `jokes` rule says so), not hostile language."""
    found = check_topic(qna(PATH, skill_yaml([("What did they write?", text)])), CTX)
    assert not [f for f in found if f.message.startswith("hostile or profane language")]


@pytest.mark.slow
def test_abuse_independent_set() -> None:
    """The tuning part of the set written apart (issue 25): measured recall 0.982, precision 0.991."""
    from tests.content.conftest import abuse_outcome, labelled

    tp, fn, fp, _ = abuse_outcome(labelled("abuse_independent.jsonl"))
    assert tp / (tp + fn) >= 0.95 and tp / (tp + fp) >= 0.97
