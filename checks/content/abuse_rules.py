"""Hostile sentences a bag of swear words cannot see, as rules: generalisations about a group, calls to
exclude it, mild insults, threats and harassment; and the innocent senses of words it over-reads.

The classifier (`checks.content.abuse`) scores words: "All Mexicans are criminals" holds no rude word,
"the bitch whelped six puppies" holds one. These rules read the shape of a sentence instead: a group
named, then a judgement of the whole group; an insult aimed at a person; a promise of harm.
Quoted speech that a sentence reports and analyses ("a pamphlet claiming that '...'") is history,
not abuse.
"""

from __future__ import annotations

import re

# --- who: a group of people --------------------------------------------------------------------------

_PEOPLES = (
    r"french|germans?|irish|english|british|scots?|welsh|americans?|mexicans?|canadians?|italians?|spaniards?"
    r"|poles?|russians?|ukrainians?|romanians?|albanians?|turks?|greeks?|arabs?|persians?|iranians?|iraqis?"
    r"|afghans?|pakistanis?|indians?|bangladeshis?|chinese|japanese|koreans?|vietnamese|filipinos?|africans?"
    r"|nigerians?|somalis?|ethiopians?|kenyans?|jamaicans?|haitians?|brazilians?|latinos?|latinas?|hispanics?"
    r"|asians?|europeans?|immigrants?|migrants?|refugees?|foreigners?|gypsies|gypsy|roma|travellers|natives?"
    r"|aborigines|whites?|blacks?|jews?|jewish|muslims?|islam|christians?|catholics?|protestants?|mormons?"
    r"|hindus?|sikhs?|buddhists?|atheists?|evangelicals?|women|woman|men|girls|boys|females?|males?|wives"
    r"|feminists?|gays?|lesbians?|bisexuals?|trans(?:gender)?|queers?|homosexuals?|non-binary|millennials?"
    r"|boomers?|zoomers?|teenagers?|teens|old|elderly|pensioners|disabled|autistic|blind|deaf|retards?|cripples?"
    r"|the\s+poor|poor|fat|obese|priests?|rednecks?|hillbillies|southerners|northerners|liberals?|conservatives?")
GROUP = (
    rf"(?:(?:all|every|most|these|those|the|you)\s+)?(?:(?:{_PEOPLES})(?:\s+(?:people|men|women|folks?|kids|students"
    rf"|drivers|priests?|immigrants|workers|families))?|(?:people|those|anyone|someone)\s+(?:with|in|from|who\s+are)"
    r"\s+[\w\s'-]{2,30}?|(?:black|white|brown|gay|trans|old|poor|fat|disabled|mentally\s+ill|religious|muslim"
    r"|jewish)\s+(?:people|folks?|men|women|kids))")
_GROUP_SUBJECT = re.compile(rf"(?:^|[\s,;:(\"'\u201c])(?:{GROUP})\b", re.IGNORECASE)

# --- what: a judgement of a whole group, or a call to exclude it --------------------------------------

TRAITS = (
    r"criminals?|thieves|thief|scammers?|cowards?|cowardly|lazy|drunks?|inbred|racists?|stupid|dumb|idiots?"
    r"|morons?|moronic|dirty|filthy|smelly|smell|stink|disease|diseased|greedy|extremists?|terrorists?|violent"
    r"|fanatics?|brainwashed|savages?|barbaric|barbarians?|liars?|lying|cheats?|perverts?|pedophiles?|paedophiles?"
    r"|predators?|a\s+danger|dangerous|menace|a\s+burden|burden|a\s+waste|worthless|useless|leeches|parasites?"
    r"|vermin|animals|apes?|monkeys?|subhuman|cockroaches|rats|a\s+cancer|cancer|a\s+plague|plague|monsters?"
    r"|abominations?|livestock|property|robots|lunatics?|psychos?|crazy|insane|pathetic|spoiled|entitled|brats?"
    r"|snowflakes?|weak|irrational|too\s+emotional|hysterical|inferior|less\s+intelligent|bad\s+at|incapable"
    r"|cannot\s+be\s+trusted|can'?t\s+be\s+trusted|no\s+morals|no\s+manners|no\s+work\s+ethic|creepy|cultists?"
    r"|ugly|disgusting|degenerates?|freaks?|trash|scum|breed|welfare|control\s+(?:all\s+)?the|have\s+no\s+place"
    r"|should(?:n'?t|\s+not)\s+be\s+allowed|should\s+be\s+(?:banned|locked\s+up|deported)")
_TRAIT = re.compile(rf"\b(?:{TRAITS})\b", re.IGNORECASE)
# "are", "is", "have", "only come", "can't": the verb that makes a sentence a claim about every member.
_CLAIM = re.compile(r"\b(?:are|is|were|have|has|can'?t|cannot|only|always|never|all|born|naturally|basically"
                    r"|just|nothing\s+but|smell|stink|steal|cheat|lie|ruin|breed)\b", re.IGNORECASE)
# "people with Down syndrome are ...": a group described by a phrase, whose claim comes after the phrase.
_DESCRIBED = re.compile(r"\b(?:people|those|anyone|someone)\s+(?:with|in|from|who\s+are)\b", re.IGNORECASE)
EXCLUSION = re.compile(
    rf"\b(?:{GROUP})\s+(?:should(?:n'?t| not)?|must(?:n'?t| not)?|need\s+to|ought\s+to)\s+(?:all\s+)?(?:be\s+)?"
    r"(?:(?:barred|banned|expelled|deported|sent\s+back|thrown\s+out|kicked\s+out|locked\s+(?:up|away)|sterili[sz]ed"
    r"|removed|excluded|kept\s+out|shot|hanged|gassed|wiped\s+out)|(?:allowed|permitted)\s+to)\b"
    rf"|\b(?:round\s+up|deport|expel|ban|get\s+rid\s+of|send\s+back|drive\s+out|close\s+the\s+borders?\s+to)\s+"
    rf"(?:all\s+)?(?:the\s+)?(?:{GROUP})\b"
    rf"|\bkeep\s+(?:all\s+)?(?:the\s+)?(?:{GROUP})\s+out\b"
    rf"|\bno\s+(?:{GROUP})\s+(?:in|allowed|wanted|welcome)\b|\bkeep\s+them\s+out\b|\bdrive\s+them\s+(?:all\s+)?out\b"
    r"|\b(?:burn\s+down|attack|bomb)\s+the\s+(?:mosque|synagogue|church|temple|gurdwara)\b",
    re.IGNORECASE)

# --- at whom: insults, threats and harassment aimed at a person ---------------------------------------

# Rude enough to be an insult wherever they stand ("this dickhead forgot to close the file").
RUDE = r"dickheads?|dipshits?|douche\w*|tossers?|wankers?|twats?|scumbags?|lowlifes?"
INSULTS = (rf"{RUDE}|fool|idiot|moron|dork|dummy|halfwit|half-wit|numpty|twit|nitwit|dimwit|dunce|imbecile|cretin|clown"
           r"|loser|creep|jerk|crybaby|freak|slob|weirdo|simpleton|buffoon|nincompoop|muppet|pillock|prat"
           r"|plonker|wally|git|parasite|knob"
           # an animal is an insult only with a word that makes it one ("a cow is an animal" is not)
           r"|(?:whiny|fat|stupid|silly|lazy|ugly|dumb|filthy|dirty|greedy|old|useless)\s+(?:cow|pig|donkey)"
           r"|excuse\s+for\s+a\s+human(?:\s+being)?|waste\s+of\s+(?:space|oxygen|skin)")
_INSULT = re.compile(
    rf"\b(?:you(?:'re|\s+are)?|ur|is|are|what)\s+(?:(?:a|an|such\s+a|the|absolute|complete|total|utter|"
    rf"[\w-]+,?)\s+){{0,4}}(?:{INSULTS})s?\b|\b(?:{RUDE})\b"
    r"|\b(?:this|that|what\s+a)\s+(?:damn|bloody|freaking|frigging|crappy|goddamn|shitty)\s+\w+"
    rf"|,\s*(?:you\s+)?(?:\w+\s+){{0,2}}(?:{INSULTS})s?\s*[.!?]*\s*$"
    r"|\bare\s+you\s+(?:thick|stupid|dense|dumb|blind|slow|retarded)\b|\blearn\s+to\s+read\b"
    r"|\b(?:should\s+have\s+aborted\s+you|nobody\s+wants\s+you\s+here|everyone\s+(?:here\s+)?hates\s+you"
    r"|(?:laughing|laughs)\s+at\s+you\s+behind\s+your\s+back|thinks?\s+you'?re\s+a\s+joke)\b",
    re.IGNORECASE)
THREAT = re.compile(
    r"\b(?:you'?re|you\s+are)\s+dead\b|\bwake\s+up\s+in\s+(?:a\s+|the\s+)?hospital\b|\beating\s+through\s+a\s+straw\b"
    r"|\b(?:i'?ll|i\s+will|i'?m\s+going\s+to|we'?ll|gonna)\s+(?:\w+\s+){0,2}(?:burn|smash|break|beat|kill|hurt|stab"
    r"|shoot|punch|strangle|end|ruin|destroy)\s+(?:you|your|his|her|their|him|them)\b"
    r"|\b(?:keep|keeps)\s+(?:posting|sharing|leaking)\s+(?:your|his|her|their)\s+(?:home\s+)?address"
    r"|\bsend\s+me\s+nudes\b|\bor\s+i'?ll\s+tell\s+everyone\b|\bsat\s+on\s+my\s+lap\b"
    r"|\b(?:downvote|report|flag)\s+every\s+\w+\s+(?:she|he|they)\s+\w+\s+until\b"
    r"|\b(?:show\s+me\s+your|nice)\s+(?:tits|boobs|ass)\b",
    re.IGNORECASE)

# --- innocent senses: a word the classifier over-reads, with the context that makes it innocent --------

BENIGN_SENSES: tuple[tuple[re.Pattern[str], re.Pattern[str], str], ...] = (
    (re.compile(r"\bbitch(?:es)?\b", re.IGNORECASE),
     re.compile(r"\b(?:dogs?|pupp(?:y|ies)|whelp\w*|litters?|stud|breed\w*|mating|gestation|lactation|ovulation"
                r"|kennel\w*|vixen|female\s+(?:dog|fox|wolf)|nursing|canine)\b", re.IGNORECASE), "dam"),
    (re.compile(r"\b(?:penis|testes|testicles?|vagina|vulva|anus|rectum|breasts?|nipples?|scrotum)\b", re.IGNORECASE),
     re.compile(r"\b(?:organs?|reproductive|anatom\w*|glands?|tissue|cancer|examination|clinical|medical|urinary"
                r"|hormones?|infection|surgery|diagnos\w*|symptoms?)\b", re.IGNORECASE), "organ"),
)
# A sentence that reports and analyses what someone else said quotes it, with a verb of reporting.
QUOTED = re.compile(r"'[^'\n]{4,}'|\"[^\"\n]{4,}\"|\u201c[^\u201d\n]{4,}\u201d|\u2018[^\u2019\n]{4,}\u2019")
REPORTING = re.compile(r"\b(?:quot\w+|claim\w*|statements?|words?|rebut\w*"
                       r"|wrote|writes|said|says|slogans?|pamphlets?|propaganda|rhetoric"
                       r"|metaphors?|describ\w+|called|term|phrase|example\s+of|historian\w*|analy\w+|such)\b",
                       re.IGNORECASE)


def benign(sentence: str) -> str:
    """The sentence with each over-read word in its innocent context replaced by a neutral one
    ("the bitch whelped" -> "the dam whelped"), for the classifier to score."""
    for word, context, neutral in BENIGN_SENSES:
        if context.search(word.sub(" ", sentence)):
            sentence = word.sub(neutral, sentence)
    return sentence


# A sentence that refutes a generalisation names it to say it is wrong.
REFUTING = re.compile(r"\b(?:false|untrue|not\s+true|myths?|stereotyp\w+|misconceptions?|prejudices?|rebut\w*"
                      r"|refut\w+|debunk\w*|no\s+evidence)\b", re.IGNORECASE)


def reported(sentence: str) -> str:
    """The sentence without the speech it quotes when it reports that speech (history and analysis)."""
    outside = QUOTED.sub(" ", sentence)
    return outside if outside != sentence and REPORTING.search(outside) else sentence


def generalisation(sentence: str) -> bool:
    """A group named, then at once a claim about all of it with a hostile trait ("X are all criminals").
    The claim must follow the group: in "Indian elephants have ..." or "black rhinos have poor eyesight"
    the word names a kind of animal, not people."""
    for m in _GROUP_SUBJECT.finditer(sentence):
        rest = sentence[m.end():]
        at = len(rest) - len(rest.lstrip(" ,"))
        claim = _CLAIM.search(rest, at, 40) if _DESCRIBED.search(m.group()) else _CLAIM.match(rest, at)
        if claim and _TRAIT.search(rest[claim.start():claim.start() + 90]):
            return True
    return False


def hostile_rule(sentence: str) -> str | None:
    """Why a rule finds the sentence hostile, or None."""
    text = reported(sentence)
    if REFUTING.search(text):
        return None
    if generalisation(text):
        return "generalisation about a group"
    if EXCLUSION.search(text):
        return "call to exclude or harm a group"
    if THREAT.search(text):
        return "threat or harassment"
    if _INSULT.search(text):
        return "insult"
    return None
