"""Writes the hate/abuse/profanity set (issue 16 item 11): `abuse_tune.jsonl` and `abuse_holdout.jsonl`.

Run once: `python tests/content/data/make_abuse_set.py`. Sentences as contributors write questions,
answers and contexts: hostile ones (insults, threats, profanity, contempt for a group) and clean
ones, many of them look-alikes (words that contain or resemble a swear word, violence in history
or in computing, discussion *about* hate speech). Split once, before choosing the threshold: per
label a seeded shuffle (seed 1611), the first third held out; only the final measurement reads it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
R = random.Random(11)

GROUPS = ["immigrants", "refugees", "Muslims", "Jews", "Christians", "gay people", "women", "foreigners",
          "Mexicans", "disabled people", "old people", "trans people", "Black people", "Asians"]
TARGETS = ["you", "your brother", "that teacher", "the new guy", "my neighbour", "this reviewer", "the referee"]
INSULTS = ["idiot", "moron", "loser", "pathetic clown", "worthless piece of garbage", "imbecile", "dumbass",
           "jerk", "halfwit", "waste of space"]
PROFANE = ["fucking", "damn", "shitty", "goddamn", "bloody", "crappy", "freaking", "bullshit"]
THINGS = ["printer", "laptop", "bus", "homework", "meeting", "code review", "weather", "app", "update", "game"]


def hostile() -> list[str]:
    out: list[str] = []
    for _ in range(40):
        out.append(R.choice([
            "Shut up, {t}, you {i}.", "Honestly {t} is the biggest {i} I have ever met.",
            "Nobody cares what a {i} like you thinks.", "Get lost, you {i}, and never come back.",
            "Answer: because you're a stupid {i}, that's why.", "Only a complete {i} would ask that question.",
            "Go to hell, {t}.", "I hope {t} chokes on it, the {i}.",
        ]).format(t=R.choice(TARGETS), i=R.choice(INSULTS)))
    for _ in range(40):
        out.append(R.choice([
            "This {p} {x} never works.", "What the hell is wrong with this {p} {x}?", "The {x} is total shit.",
            "Fuck this {x}, I'm done.", "That {p} {x} cost me an hour, what a pile of crap.",
            "Holy shit, the {x} crashed again.", "Tell your boss the {x} is {p} useless.",
            "Screw the {x} and screw whoever made it, the bastards.",
        ]).format(p=R.choice(PROFANE), x=R.choice(THINGS)))
    for _ in range(40):
        out.append(R.choice([
            "{g} are vermin and should be thrown out of the country.", "All {g} are criminals, every single one.",
            "I wish {g} would just disappear.", "{g} are disgusting and don't deserve any rights.",
            "Never hire {g}, they are lazy and stupid.", "The world would be better without {g}.",
            "{g} are animals, not people.", "Keep {g} out of our neighbourhood, they ruin everything.",
        ]).format(g=R.choice(GROUPS)).capitalize())
    for _ in range(20):
        out.append(R.choice([
            "I know where you live and I will make you pay.", "Say that again and I'll break your legs.",
            "Keep posting and I will hunt you down.", "You'd better watch your back, {t}.",
            "If I see {t} again I'll beat the crap out of them.",
        ]).format(t=R.choice(TARGETS)))
    return out


def clean() -> list[str]:
    out: list[str] = []
    for _ in range(40):
        out.append(R.choice([
            "What is the capital of {c}?", "Summarise the meeting notes in three bullet points.",
            "Convert {n} kilometres to miles.", "The {x} needs an update before Friday.",
            "Write a polite reply declining the invitation.", "Explain photosynthesis to a ten-year-old.",
            "List three benefits of regular exercise.", "Rewrite the sentence in the passive voice.",
            "How many legs does a spider have?", "Translate 'good morning' into Spanish.",
        ]).format(c=R.choice(["Peru", "Kenya", "Norway", "Vietnam"]), n=R.randint(2, 90), x=R.choice(THINGS)))
    for _ in range(60):
        out.append(R.choice([
            "Scunthorpe is a town in North Lincolnshire, England.", "The cocktail was served with a slice of lime.",
            "The assassin bug preys on other insects.", "Kill the process with its PID and restart the service.",
            "She shot the photo at dusk with a wide lens.", "The bomb disposal unit made the area safe.",
            "The dog breeder said the bitch had six puppies.", "Dick Grayson was the first Robin in the comics.",
            "The hostile takeover bid was rejected by the board.", "Execute the script with the --dry-run flag.",
            "The mosquito is the deadliest animal to humans.", "The sniper in the chess game is the bishop.",
            "Hitler came to power in Germany in 1933.", "The Holocaust was the genocide of six million Jews.",
            "Hate speech laws differ between countries.", "Slavery was abolished in the British Empire in 1833.",
            "The Rwandan genocide took place in 1994.", "Bloody Sunday happened in Derry in 1972.",
            "The Ku Klux Klan is a white supremacist hate group founded in 1865.",
            "Anti-discrimination law protects people from being refused a job because of their religion.",
            "The essay argues that insults online hurt teenagers' mental health.",
            "The fighter knocked out his opponent in the third round.", "Cut the cord and strip the wire.",
            "Dam construction began in 1931 on the Colorado River.", "The cock crowed at dawn on the farm.",
            "He was a hard-hitting critic of the government.", "The word 'idiot' comes from Greek.",
            "Shakespeare's insults are famous, for example 'thou art a boil'.",
            "Sussex, Essex and Middlesex are English counties.", "Press the dump button to empty the tank.",
            "The troops attacked the fort at dawn in 1863.", "Refugees fleeing the war were housed in camps.",
            "Immigrants made up a third of the city's population in 1900.",
            "Women won the right to vote in New Zealand in 1893.", "Muslims fast during the month of Ramadan.",
            "Passover commemorates the Exodus from Egypt.", "Gay marriage became legal in Ireland in 2015.",
        ]))
    for _ in range(50):
        out.append(R.choice([
            "Thank you for the detailed review, I'll fix the {x} tonight.",
            "Our team won the match 3-1 after a tough second half.",
            "The {x} was slow, but the support staff were friendly.",
            "My grandmother taught me how to bake bread.",
            "Could you recommend a good book about the history of {c}?",
            "Please keep comments respectful and on topic.",
            "The patient reported mild pain after the surgery.",
            "Answer: the train leaves at 7:45 from platform {n}.",
            "Sort the list of {n} numbers in ascending order.",
            "The referee showed a red card for a dangerous tackle.",
        ]).format(x=R.choice(THINGS), c=R.choice(["Japan", "Brazil", "Egypt", "Poland"]), n=R.randint(2, 12)))
    for _ in range(80):
        out.append(R.choice([
            "Why did the {x} stop working after the update?", "{g} in {c} celebrate the new year in {m}.",
            "Describe how {g} contributed to the economy of {c}.", "The {x} broke, so we borrowed one from {t}.",
            "What happened in {c} in {y}?", "The war in {c} ended in {y} with a peace treaty.",
            "How do I stop the {x} from overheating?", "Write a short thank-you note to {t}.",
        ]).format(x=R.choice(THINGS), g=R.choice(GROUPS), c=R.choice(["Canada", "India", "Chile", "Ghana", "Italy"]),
                  m=R.choice(["January", "March", "September"]), t=R.choice(TARGETS), y=R.randint(1800, 2010)))
    return out


def main() -> None:
    # Each sentence once: a repeated sentence would count its verdict twice.
    rows = [{"text": t, "abusive": True} for t in dict.fromkeys(hostile())]
    rows += [{"text": t, "abusive": False} for t in dict.fromkeys(clean())]
    split = random.Random(1611)
    tune, held = [], []
    for label in (True, False):
        group = [r for r in rows if r["abusive"] is label]
        split.shuffle(group)
        held += group[: len(group) // 3]
        tune += group[len(group) // 3:]
    header = ("Hate/abuse/profanity set for issue 16 item 11, written by make_abuse_set.py. Split once, before "
              "choosing the threshold: per label a seeded shuffle (random.Random(1611)), the first third to "
              "abuse_holdout.jsonl, the rest to abuse_tune.jsonl.")
    for name, part in (("abuse_tune.jsonl", tune), ("abuse_holdout.jsonl", held)):
        meta = {"header": header, "part": "held out: measured once, at the end" if "holdout" in name else "tuning"}
        lines = [json.dumps(meta)] + [json.dumps(r, ensure_ascii=False) for r in part]
        (HERE / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(name, sum(1 for r in part if r["abusive"]), "abusive", sum(1 for r in part if not r["abusive"]), "clean")


if __name__ == "__main__":
    main()
