"""`pipeline.evaluate.correctness`: facts, not wording, decide whether an answer is right."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pipeline.evaluate.correctness import CORRECT, FACTS, PARTLY, SIMILARITY, WRONG, Thresholds, grade_all, is_task

# A leaf whose answers repeat the question's words but get every fact wrong (issue 21's harbour).
HARBOUR = [
    ("In what year was the harbour of Port Halvering founded?",
     "The harbour of Port Halvering was founded in 1742.", "The harbour of Port Halvering was founded in 1824."),
    ("How many lighthouses stand at the entrance of Port Halvering?",
     "Three lighthouses stand at the entrance of Port Halvering.",
     "Two lighthouses stand at the entrance of Port Halvering."),
    ("What is the name of the annual festival held in Port Halvering?",
     "The annual festival is the Kelp Moon Festival.",
     "The annual festival held in Port Halvering is the Harbour Lights Festival."),
    ("Which fish is Port Halvering famous for?", "Port Halvering is famous for its silver herring.",
     "Port Halvering is famous for its smoked cod."),
    ("Who was the first harbour master of Port Halvering?",
     "The first harbour master of Port Halvering was Agnes Tolliver.",
     "The first harbour master of Port Halvering was Captain John Halvering."),
]


def grade(question: str, reference: str, answer: str, context: str = "", **kw: object):
    """One answer's grade; no similarity model unless given (`similarity=`)."""
    return grade_all([{"question": question, "answer": reference, "context": context}], [answer],
                     **{"similarity": None, **kw})[0]  # type: ignore[arg-type]


def test_echoed_question_with_every_fact_wrong_is_wrong() -> None:
    grades = grade_all([{"question": q, "answer": r} for q, r, _ in HARBOUR], [a for _, _, a in HARBOUR],
                       similarity=None)
    assert [g.label for g in grades] == [WRONG] * 5
    assert all(g.basis == FACTS and g.score == 0.0 for g in grades)
    assert grades[0].contradicted == ("1742",)      # a different year for the same founding
    assert grades[1].contradicted == ("Three lighthouses",)
    assert "Kelp Moon" in grades[2].missed and "Agnes Tolliver" in grades[4].missed


def test_right_facts_in_other_words_are_correct() -> None:
    assert grade("In what year did the Titanic sink?", "1912.",
                 "The Titanic sank in nineteen twelve after hitting an iceberg.").label == CORRECT
    assert grade("On what date did humans first land on the Moon?", "July 20, 1969.",
                 "It happened on 20 July 1969, during the Apollo 11 mission.").label == CORRECT
    assert grade("When was Pluto reclassified?", "In 2006.",
                 "It was announced on January 24, 2006.").label == CORRECT  # a year is in its date
    assert grade("What was the population in 2020?", "58,300.",
                 "It was fifty-eight thousand three hundred.").label == CORRECT
    assert grade("About how many base pairs are in the human genome?", "About 3 billion.",
                 "The human genome has about three billion base pairs.").label == CORRECT


def test_a_number_of_the_question_is_no_fact_and_a_rival_number_is_a_contradiction() -> None:
    squared = grade("What is 12 squared?", "144.", "12 squared is 124.")
    assert squared.label == WRONG and squared.contradicted == ("144",) and squared.matched == ()
    assert grade("In what year did the Berlin Wall fall?", "1989.",
                 "The Berlin Wall fell in 1991. The first protests had started in 1989.").label == WRONG


def test_the_right_number_with_another_unit_is_wrong() -> None:
    for reference, answer in (("87 metres.", "Lake Dornay is 87 kilometres long."),
                              ("19 degrees Celsius.", "Around 19 degrees Fahrenheit."),
                              ("910 mm.", "The rainfall is 910 centimetres.")):
        got = grade("How much is it?", reference, answer)
        assert got.label == WRONG and got.contradicted, (reference, got)
    assert grade("How hot is the oven?", "180 degrees Celsius.", "At 180 degrees.").label == CORRECT


def test_names_score_by_their_words() -> None:
    half = grade("Who founded Norrin Instruments?", "Viktor Halloran.", "It was founded by James Halloran.")
    assert half.label == PARTLY and half.half == ("Viktor Halloran",) and half.score == 0.5
    assert grade("Who captained the Gulls?", "Diego Salcedo.",
                 "The Gulls were captained by Diego Salcedo.").label == CORRECT
    assert grade("Who painted it?", "Anton Reyes.", "It was painted by Claude Monet.").label == WRONG


def test_multi_fact_answer_with_one_wrong_is_partly() -> None:
    got = grade("How tall are the towers and how long are the blades?",
                "Each tower is 95 metres tall and each blade is 52 metres long.",
                "Each tower is 95 metres tall and each blade is about 40 metres long.")
    assert got.label == PARTLY and got.matched == ("95 metres",) and got.contradicted == ("52 metres",)


def test_quoted_strings_are_facts() -> None:
    got = grade("Where does the name come from?", 'From the old word "brenna", meaning to burn.',
                "From the old word brenna.")
    assert "brenna" in got.matched
    spanish = grade('How do you say "thank you" in Spanish?', '"Thank you" in Spanish is "gracias".', "Hola.")
    assert spanish.missed == ("gracias",)  # one fact, not the quote and its lemma ("gracia") twice


def test_text_tasks_fall_back_and_say_so() -> None:
    assert is_task("Write a haiku about rain.") and is_task("Rewrite this sentence politely.")
    assert not is_task("What is the capital of France?")

    def similar(answers: Sequence[str], references: Sequence[str]) -> list[float]:
        assert all("haiku" not in a.lower() and "rain" not in a.lower().split() for a in answers)  # question words out
        return [0.5] * len(answers)

    poem = grade_all([{"question": "Write a haiku about rain", "answer": "Soft rain on the roof"}],
                     ["Raindrops on the glass, a haiku about rain"], similarity=similar)[0]
    assert poem.basis == SIMILARITY and poem.label == CORRECT
    unchanged = grade("Rewrite this sentence in an enthusiastic tone.", "Great news - the park opens Saturday!",
                      "The new park opens on Saturday.", context="The new park opens on Saturday.")
    assert unchanged.label == WRONG and "repeats" in unchanged.rationale
    moved = grade("Turn this note into an invitation.", "Join us for lunch this Friday at 12:30!",
                  "Come to lunch on Friday at 1:30!", context="Team lunch Friday 12:30")
    assert moved.label == WRONG and moved.contradicted == ("12:30",)


def test_a_configured_judge_grades_what_has_no_facts_and_its_rationale_is_kept() -> None:
    def judge(items: Sequence[dict[str, str]], answers: Sequence[str]) -> list[tuple[str | None, str]]:
        return [(PARTLY, "keeps the tone, loses the date")] * len(items)

    got = grade_all([{"question": "Write a poem about the sea.", "answer": "The silver sea breathes."}],
                    ["Waves roll."], judge=judge)[0]
    assert (got.basis, got.label, got.rationale) == ("judge", PARTLY, "keeps the tone, loses the date")


def test_labels_never_hang_on_a_float_tie() -> None:
    thresholds = Thresholds(correct_at=0.65, partly_at=0.3)
    assert thresholds.label(0.65000000001, FACTS) == CORRECT
    assert thresholds.label(0.6499999999, FACTS) == CORRECT  # rounded to 4 decimals first: 0.65
    assert thresholds.label(0.64994, FACTS) == PARTLY
    assert thresholds.label(0.0, FACTS) == WRONG


def test_a_missed_number_or_quote_keeps_an_answer_from_correct() -> None:
    got = grade("What does the Orvik lens do?", "It has a 36-megapixel sensor and films 8K video.",
                "The Orvik lens films 8K video with its sensor.")
    assert got.score >= 0.65 and got.label == PARTLY and "36 - megapixel" in got.missed


def test_a_second_value_of_the_same_quantity_takes_the_right_one_back() -> None:
    got = grade("How many people lived in Tessaly?", "About 2,300 people.",
                "About 2,300 people lived there. In all, around 400 people lived in Tessaly.")
    assert got.label == WRONG and got.contradicted == ("2,300 people",)


def test_an_answer_offered_beside_another_is_partly() -> None:
    got = grade("Who built the Orley bridge?", "Mara Quint.", "Mara Quint, or perhaps Leonardo da Vinci.")
    assert got.label == PARTLY and got.matched == ("Mara Quint",) and "another answer" in got.rationale



def test_the_right_answer_among_guesses_across_an_or_is_partly() -> None:
    got = grade("What cargo did the Tarrow Canal carry?", "The Tarrow Canal carried slate.",
                "The Tarrow Canal carried cargo such as coal, grain or slate.")
    assert got.label == PARTLY and "another answer" in got.rationale
    assert grade("In which month does Lake Orv freeze?", "It freezes in January.",
                 "Lake Orv freezes in December or January.").label == PARTLY
    assert grade("I fly without wings and cry without eyes. What am I?", "A cloud.",
                 "You are a bird, or a rain cloud.").label == PARTLY
    # An "or" that offers nothing else, or joins two words of the reference, takes nothing back.
    assert grade("In which month does Lake Orv freeze?", "It freezes in January.",
                 "Lake Orv freezes in January, more or less every year.").label == CORRECT
    assert grade("Which two metals make the alloy?", "Copper and tin.", "Copper or tin, both of them.").label == CORRECT


def test_a_yes_or_no_the_other_way_is_wrong_whatever_words_it_shares() -> None:
    got = grade("Can the Orley wall be seen from orbit?", "No, it cannot be seen with the naked eye from orbit.",
                "Yes, the Orley wall can be seen with the naked eye from orbit.")
    assert got.label == WRONG and got.contradicted == ("No",) and "yes where the reference says no" in got.rationale
    assert grade("Is the Orley wall older than the town?", "Yes, it is older by two centuries.",
                 "Yes, it is about two centuries older.").label == CORRECT


def test_a_person_named_with_initials_is_the_person() -> None:
    assert grade("Who wrote The Tin Harbour?", "Viktor Halloran wrote it.",
                 "It was written by V. Halloran, a poet.").label == CORRECT
    assert grade("Who wrote The Tin Harbour?", "Viktor Halloran wrote it.",
                 "It was written by J. Halloran, a poet.").label == PARTLY  # another first name's initial
    assert grade("Who painted the Orley altarpiece?", "Pieter van Orsel painted it.",
                 "It was painted by the Flemish artist van Orsel.").label == CORRECT  # the surname and its particle
    assert grade("Who painted the Orley altarpiece?", "Pieter van Orsel painted it.",
                 "It was painted by Jan van Orsel.").label == PARTLY


def test_a_founder_whose_surname_the_question_holds_is_told_by_the_first_name() -> None:
    question = "Who founded the Pell and Sons glassworks?"
    assert grade(question, "Edwin Pell, in 1861.", "It was founded by Edwin Pell.").label == CORRECT
    half = grade(question, "Edwin Pell, in 1861.", "Pell and Sons was founded by Thomas Pell in the 1800s.")
    assert half.label == PARTLY and half.half == ("Edwin Pell",)  # the right surname, another first name
    assert grade(question, "Edwin Pell, in 1861.", "Pell and Sons was founded by a local family.").label == WRONG


def test_where_asks_for_the_place_and_its_generic_last_word_may_go() -> None:
    assert grade("Where is the Mona Lisa displayed?", "In the Louvre Museum in Paris.",
                 "It hangs in the Louvre in Paris, France.").label == CORRECT
    assert grade("Where is the mother house of the Order?", "At Carrow Fell, in the hills above the river Wend.",
                 "It is at Carrow Fell, near Rome.").label == PARTLY
    assert grade("Where was the railway's engine shed?", "At Pellow Junction.",
                 "The railway's engine shed was at Lune Junction.").label == WRONG


def test_ordinal_words_months_and_short_units_are_read_as_written() -> None:
    assert grade("What is Saturn's position counting from the Sun?", "Sixth.",
                 "Saturn is the 6th planet from the Sun.").label == CORRECT
    assert grade("What is the boiling point of water at sea level?", "100 degrees Celsius.",
                 "Water boils at 100 C at sea level.").label == CORRECT
    assert grade("When does Lake Orsk freeze and thaw?", "It freezes in late November and thaws in early May.",
                 "It freezes in late November and thaws in March.").label == PARTLY


def test_a_word_spelt_the_other_way_is_the_word() -> None:
    assert grade("What grew on Fleming's dish?", "A mould called Penicillium.",
                 "A mold called Penicillium grew there.").label == CORRECT
    assert grade("What did the guard carry?", "A horse whip.", "A house whip.").label != CORRECT


def test_the_number_a_how_many_question_counts_is_that_quantity() -> None:
    question = "How many vehicles cross the Hollin Bridge each day?"
    assert grade(question, "About 42,000.", "About 42,000 people live near the bridge.").label == WRONG
    assert grade(question, "About 42,000.", "About 42,000 vehicles cross it every day.").label == CORRECT
    assert grade(question, "About 42,000.", "Roughly 42,000 a day.").label == CORRECT

def test_a_company_shares_no_half_credit_and_a_place_may_drop_its_generic_last_word() -> None:
    assert grade("Which company ran the ferry?", "The Norland Steam Line.", "The Baltic Line ran it.").label == WRONG
    assert grade("Where did the ship sail to?", "To New York City.", "She sailed to New York.").label == CORRECT


def test_a_reference_of_plain_words_is_graded_by_them() -> None:
    assert grade("Which months have at least 28 days?", "All of them.", "All twelve months do.").label == CORRECT
    assert grade("Which months have at least 28 days?", "All of them.", "Only February.").label == WRONG
    assert grade("What is yours but used more by others?", "Your name.", "Your phone.").label == WRONG
    assert grade("What is yours but used more by others?", "Your name.", "It is your name.").label == CORRECT
    quoted = grade("Which word is always spelled wrong in the dictionary?", 'The word "wrong".',
                   'The word "dictionary" is spelled wrong.')
    assert quoted.label == WRONG and quoted.contradicted == ("wrong",)  # the question's word it had to pick


def test_well_known_abbreviations_count_either_way() -> None:
    assert grade("Which gas do we breathe out?", "Carbon dioxide.", "We breathe out CO2.").label == CORRECT
    assert grade("Which gas do we breathe out?", "CO2.", "We breathe out carbon dioxide.").label == CORRECT


def test_a_text_task_declined_or_missed_is_wrong_however_alike_it_reads() -> None:
    def alike(answers: Sequence[str], references: Sequence[str]) -> list[float]:
        return [0.9] * len(answers)

    notice = ("From October the Brindle pool opens at 6 am on weekdays, because swimmers asked for early lanes. "
              "It closes at 8 pm as before.")
    items = [{"question": "Summarise this notice in one sentence.", "context": notice,
              "answer": "From October the Brindle pool opens at 6 am on weekdays for early swimmers."}] * 3
    declined, unrelated, kept = grade_all(items, [
        "I'm sorry, but I can't summarise notices.", "A pool is a place where people swim for fun.",
        "The Brindle pool opens at 6 am on weekdays from October."], similarity=alike)
    assert (declined.label, declined.rationale) == (WRONG, "declines the task")
    assert (unrelated.label, unrelated.rationale) == (WRONG, "keeps almost nothing the task asks for")
    assert kept.label == CORRECT
    assert is_task("Give a one-sentence summary of this study.") and not is_task("Give an example of a mammal.")


def test_a_question_for_one_quantity_or_person_is_answered_by_it() -> None:
    assert grade("How tall is the Orley mast?", "About 212 metres, including its lightning rod.",
                 "The Orley mast is about 212 metres tall.").label == CORRECT
    assert grade("How tall is the Orley mast?", "About 212 metres, including its lightning rod.",
                 "The Orley mast is about 120 metres tall, including its lightning rod.").label == WRONG
    assert grade("Who mapped the Vessa caves in 1911?", "Ilse Marten and Tomas Brede, with lamps by Ada Lind.",
                 "The caves were mapped by Marten and Brede in 1911.").label == CORRECT  # surnames alone
    both = grade("When did the farm open, and who runs it?", "It opened in 2016 and is run by Cinder Energy Partners.",
                 "It opened in 2016 and is run by the national grid company.")
    assert both.label == PARTLY  # two things asked: the name counts too


# (question, reference, answer, label): one rule each, what it reads and what it must not.
BONE, HONEY = "Which is the longest bone in the human body?", "What shape are the cells of a honeycomb?"
AMAZON = "Is the Amazon the longest river in South America?"
READINGS = {
    "month alone, another month": ("In which month is the Quorvale Ember Festival held?",
                                   "The Quorvale Ember Festival is held every year in October.",
                                   "The Quorvale Ember Festival is held every year in March.", WRONG),
    "month among two guesses": ("In which month does the lake freeze?", "In January.",
                                "It usually freezes in December or January.", PARTLY),
    "two amounts across an or": ("How much is an adult ticket?", "14 euros.",
                                 "An adult ticket costs 40 euros, or 14 euros for children.", WRONG),
    "about, within 1 %": ("How tall was the Great Pyramid originally?", "About 146.6 metres.",
                          "When it was finished, it was about 146 metres tall.", CORRECT),
    "exact, not within 1 %": ("How tall is the Orley tower?", "146.6 metres.", "It is 146 metres tall.", WRONG),
    "and a half": ("How long does a full charge take?", "4.5 hours",
                   "A full charge takes about four and a half hours.", CORRECT),
    "altitude asks the number": ("At what altitude does Lake Ombrel lie?", "1,140 m above sea level",
                                 "Lake Ombrel lies at 1,410 metres above sea level.", WRONG),
    "bare yes": (AMAZON, "Yes.", "Yes, the Amazon is the longest river in South America.", CORRECT),
    "bare yes, answered no": (AMAZON, "Yes.", "No, the Orinoco is longer than the Amazon.", WRONG),
    "bare yes, no yes": (AMAZON, "Yes.", "The Amazon is a river in South America.", WRONG),
    "bracket says it": (BONE, "The femur (thigh bone)", "The longest bone in your body is the thigh bone.", CORRECT),
    "word before the bracket": (BONE, "The femur (thigh bone)", "It is the femur.", CORRECT),
    "neither": (BONE, "The femur (thigh bone)", "It is the shin bone.", WRONG),
    "derived word": (HONEY, "Hexagonal (six-sided).", "The cells in a honeycomb are hexagons.", CORRECT),
    "country for nationality": ("What nationality was the painter?", "Italian", "He was from Italy.", CORRECT),
    "invented word's stem": ("What is 'marrowlind'?", "A marrow stew.", "Marrowlind is a herbal tea.", WRONG),
}


@pytest.mark.parametrize("case", READINGS)
def test_months_amounts_yes_no_brackets_and_derived_words(case: str) -> None:
    question, reference, answer, label = READINGS[case]
    assert grade(question, reference, answer).label == label


# Amounts in other units and as shares, words that say the opposite, lists, and names with their extras
# (from set five's calibration part, written apart from the code): most cases a reading the code before got
# wrong, the others the line beside it that must not move.
KESSA = "How high is Mount Kessa?"
READINGS_UNITS_LISTS_NAMES = {
    "miles for kilometres": ("How far is the Tarn light from the harbour?", "About 16 kilometres.",
                             "It is roughly 10 miles away.", CORRECT),
    "another distance in miles": ("How far is the Tarn light from the harbour?", "About 16 kilometres.",
                                  "It is roughly 30 miles away.", WRONG),
    "fahrenheit for celsius": ("At what temperature does the glaze melt?", "1,100 degrees Celsius.",
                               "It melts at 2,012 degrees Fahrenheit.", CORRECT),
    "the bracket's conversion": (KESSA, "4,200 metres (13,780 feet).", "Mount Kessa is 13,780 feet high.", CORRECT),
    "another unit prefix": ("What is the output of the Brann turbine?", "12 MW.", "Its output is 12 kW.", WRONG),
    "a third in percent": ("What share of the island is forest?", "About a third of it.",
                           "Roughly 33 percent of the island is forest.", CORRECT),
    "a sixth written 1/6": ("How strong is gravity on Pell's moon?", "One sixth of ours.",
                            "About 1/6 of the gravity on Earth.", CORRECT),
    "the noun a number counts": ("What are the moving parts of the Varn engine called?", "The rotors and the stators.",
                                 "It has four rotors and two stators.", CORRECT),
    "a wrong number among right words": ("What is the flight time of the Kestrel K2 drone?",
                                         "35 minutes per battery charge.",
                                         "It flies for 35 hours per battery charge.", WRONG),
    "a direction the other way": ("In which direction is Tolvi script written?", "From right to left.",
                                  "It is written from left to right.", WRONG),
    "another dimension": ("How high is the Brenn viaduct above the river?", "64 metres.",
                          "The Brenn viaduct is 64 metres long.", WRONG),
    "two dimensions asked": ("How tall is the mast and how long is its boom?", "30 metres and 12 metres long.",
                             "The mast is 30 metres tall and the boom is 12 metres long.", CORRECT),
    "a rival list item": ("What are the three colours of the Harl flag?", "Red, green and white.",
                          "The flag is red, yellow and white.", PARTLY),
    "a list cut short": ("Which metals are in Kelder bronze?", "Copper, tin and zinc.",
                         "Kelder bronze is copper and tin.", PARTLY),
    "the question's word, echoed": ("What word is spelled wrong in every dictionary?", "The word 'wrong'.",
                                    "The word dictionary is spelled wrong in every dictionary.", WRONG),
    "the question's word, picked": ("What word is spelled wrong in every dictionary?", "The word 'wrong'.",
                                    "It is the word 'wrong'.", CORRECT),
    "a title left out": ("Who founded the Carrow Institute?", "Sir Edmund Rale.",
                         "It was founded by Edmund Rale.", CORRECT),
    "a generic last word shared": ("What is the lighthouse at Holt Point called?", "The Gannet Rock Light.",
                                   "It is called the Holt Point Light.", WRONG),
    "the place without its address": ("In which city did the Great Flood of 1919 happen?", "Boston, Massachusetts.",
                                      "It happened in Boston.", CORRECT),
    "a derived word": ("What causes the tides?", "The moon's gravity.", "The gravitational pull of the moon.",
                       CORRECT),
    "a speed in km/h": ("What is the top speed of the Vireo X4?", "68 km/h.",
                        "The Vireo X4 has a top speed of 86 km/h.", WRONG),
    "a speed guessed beside another": ("What is the stall speed of the Osk T-4?", "65 km/h.",
                                       "It stalls at 65 km/h, or maybe 75 km/h.", PARTLY),
    "the counted noun past an acronym": ("How many GPIO pins does the Tessel T9 have?", "34 GPIO pins.",
                                         "The Tessel T9 has 34 KB of flash memory and 22 GPIO pins.", WRONG),
    "two words for one thing": ("What does 'dreepsome' mean?", "Gloomy, drizzly weather.",
                                "Dreepsome describes weather that is dreary and drizzly.", CORRECT),
}


@pytest.mark.parametrize("case", READINGS_UNITS_LISTS_NAMES)
def test_units_shares_opposites_lists_and_names(case: str) -> None:
    question, reference, answer, label = READINGS_UNITS_LISTS_NAMES[case]
    assert grade(question, reference, answer).label == label


def test_an_opposite_in_place_of_the_word_contradicts_it() -> None:
    found = grade("Which side of the valley gets the morning sun?", "The eastern side.", "The western side.")
    assert found.label == WRONG and found.contradicted == ("eastern",)


def test_a_yes_or_no_question_is_answered_by_its_yes_or_no() -> None:
    """"Does penicillin work against viruses?" asks for a no: the reference's reasons in other words do not
    take it back; a contradicted fact does."""
    question, reference = "Does penicillin work against viruses?", "No. It stops bacteria building cell walls."
    agreed = grade(question, reference, "No. It is an antibiotic, so it only works on bacteria.")
    assert agreed.label == CORRECT and agreed.rationale == "answers yes or no as the reference does"
    assert grade(question, reference, "Yes, it stops viruses.").label == WRONG
    assert grade("Is the Tarn light older than the pier?", "Yes, it was built in 1820, the pier in 1901.",
                 "Yes, it was built in 1950.").label != CORRECT


def test_a_question_asked_for_must_be_asked() -> None:
    question, context = "Turn this sentence into a question.", "The ferry leaves at noon."
    similar = {"similarity": lambda a, b: [0.9] * len(a)}
    statement = grade(question, "Does the ferry leave at noon?", "Yes, the ferry leaves at noon.", context, **similar)
    assert statement.label == WRONG and statement.rationale == "asked for a question, and asks none"
    assert grade(question, "Does the ferry leave at noon?", "Does the ferry leave at noon?", context,
                 **similar).label == CORRECT


def test_an_answer_copying_a_long_question_is_read_once_beyond_it() -> None:
    """A hostile question (a merged leaf's) and an answer that copies all of it: the copied runs go in one
    pass, and the question's own word is not found said beyond them."""
    from pipeline.evaluate.correctness import _not_echoed

    question = " ".join(f"w{i}" for i in range(3_000))
    assert _not_echoed(question + " yes", question) == "yes"
    assert _not_echoed("a b c d", "b c d e") == "a"  # a run of three copied words goes, a lone word stays


def test_the_contradicted_month_is_named() -> None:
    question, reference, answer, _ = READINGS["month alone, another month"]
    assert grade(question, reference, answer).contradicted == ("October",)  # "every year" is no fact that saves it


def test_an_apology_is_a_refusal_only_when_it_declines() -> None:
    question, context = "Rewrite this message in a formal tone.", "gonna be late, traffic. start without me"
    reference = "I will be arriving late because of heavy traffic. Please begin without me."
    kept = grade(question, reference, "I apologise, but I will be arriving late due to heavy traffic.",
                 context, similarity=lambda a, b: [0.9] * len(a))
    assert kept.label == CORRECT and not kept.rationale
    assert grade(question, reference, "I'm sorry, but I cannot rewrite personal messages.", context,
                 similarity=lambda a, b: [0.9] * len(a)).rationale == "declines the task"


def test_a_text_task_may_name_what_it_counts_in_other_words() -> None:
    question = "Turn the following text into a bulleted list."
    context = "Rinse it, then discard the first two fillings."
    lines = grade(question, "- Rinse the cartridge\n- Discard the first two fillings",
                  "- Rinse the cartridge\n- Throw away the first two jugs of water", context,
                  similarity=lambda a, b: [0.9] * len(a))
    assert lines.label == CORRECT
    assert grade(question, "- Rinse the cartridge\n- Discard the first two fillings",
                 "- Rinse the cartridge\n- Discard the first three fillings", context,
                 similarity=lambda a, b: [0.9] * len(a)).rationale == "changes a number of the task"
    assert grade("Summarise the notice in one sentence.", "The library reopened on 2 September.",
                 "The library reopened in September.", "Closed since March, it reopened on 2 September.",
                 similarity=lambda a, b: [0.9] * len(a)).label == CORRECT  # a month is what is left of the date
    assert grade("Summarise the recipe in one sentence.", "Bake the rounds at 180 C for 20 minutes.",
                 "Bake them for two hours at a low heat.", "Shape rounds; bake at 180 C for 20 minutes.",
                 similarity=lambda a, b: [0.9] * len(a)).rationale == "changes a number of the task"


def test_a_reference_of_many_brackets_counts_each_bracket_once_and_no_more() -> None:
    """Hostile text (a merged leaf's answer): thousands of brackets are read in one pass (bisection, no
    square), and each stays a gloss of the word before it."""
    letters = "bcdfghjklmnpqrstvwxz"
    words = [f"zq{letters[i % 20]}{letters[i // 20 % 20]}{letters[i // 400]}" for i in range(2000)]
    reference = ", ".join(f"{w} (x{w})" for w in words)
    got = grade("What are the words?", reference, ", ".join(words))
    assert got.label == CORRECT and len(got.matched) > 0.95 * len(words)
    assert not any(m.startswith("xzq") for m in got.matched)  # a bracket is never a fact of its own
