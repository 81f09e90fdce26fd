"""A short "how to fix" per finding, for the comment's Fix column; the message says what is wrong.

Where upstream's triage guide has a standard reply (jokes and poems, math, code, knowledge sent as a
skill, too few examples, attribution, proprietary model names), the fix gives that guidance, in our
own words, keyed on the finding's check and the start of its message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from checks.formats import TOOL_URI

# Where a contributor can open a template: the taxonomy's own, else the ones Taxonomist ships in docs/templates/.
TEMPLATE_PATH = "docs/template_qna.yaml"
PROJECT_TEMPLATES = {kind: f"{TOOL_URI}/blob/main/docs/templates/{kind}/qna.yaml" for kind in ("skill", "knowledge")}

FIXES: dict[str, str] = {
    "yaml-syntax": "Make the file valid YAML (check indentation and quoting) under the size limit.",
    "file-name": "Rename the file to `qna.yaml`.",
    "yamllint": "Remove trailing spaces, fix indentation; run `yamllint` locally.",
    "schema": "Compare with {template}: required keys, types, `version: 3`.",
    "attribution": "Add an `attribution.txt` beside `qna.yaml` naming the source: title, link, revision, "
                   "licence and creator (or `Self-authored` for content you wrote); reviewers cannot accept "
                   "content whose origin they cannot check.",
    "license": "Name the source's licence in `attribution.txt` (`License of the work: CC-BY-4.0`); "
               "content that forbids commercial use or derivatives cannot be trained on.",
    "min-examples": "Add examples until there are enough (5 for a skill; 5 contexts with 3 questions each for "
                    "knowledge), each teaching something different: the generator learns the task from them.",
    "placement": "Move the leaf to the right folder; use folder names without spaces.",
    "knowledge-document": "Give `document` a `repo` URL, a full 40-hex `commit` and `patterns`.",
    "pii": "Remove personal data (e-mails, phone numbers, names of private people).",
    "duplicate": "Make each example teach something new; for a copy of another leaf, extend that leaf instead.",
    "topic": "Pick content outside the topics the taxonomy avoids (see the contribution guide).",
    "llm-text": "Write the answers yourself; do not paste output of an LLM.",
    "pr-template": "Fill in every section of the pull request template.",
    "dco": "Sign off every commit: `git commit -s --amend`, then force-push.",
}

# (check, how the message starts or what it says, the standard reply); the first match wins.
STANDARD_REPLIES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("topic", re.compile(r"^(jokes|poems)\b"),
     "The taxonomy takes no jokes or poems for now: the teacher model cannot yet judge whether generated "
     "ones are any good, so they teach little. Consider another writing skill."),
    ("topic", re.compile(r"^math\b"),
     "The taxonomy takes no math contributions for now: the teacher model gets arithmetic and proofs wrong "
     "often enough that the generated data would teach mistakes."),
    ("topic", re.compile(r"^code\b"),
     "The taxonomy takes no code contributions for now: generated code is not run or checked, so it would "
     "teach untested code. Describe the task in prose instead, or pick another skill."),
    ("placement", re.compile(r"^a knowledge file|^a skill file"),
     "Facts the model should learn are knowledge: they go under knowledge/, with a `document` the facts "
     "come from; a skill teaches how to do something and needs no document."),
    ("schema", re.compile(r"at least \d+ items"),
     "Add examples until there are enough, each teaching something different: the generator learns the task "
     "from them (see {template})."),
    ("llm-text", re.compile(r"^proprietary model name"),
     "Name no proprietary model, and use no text a proprietary model wrote: their terms forbid training "
     "other models on their output. Write `LLMs` or the name of an open model instead."),
)


def template_reference(base_has_template: bool) -> str:
    """What to point a contributor at: the taxonomy's own template when its base branch has one."""
    if base_has_template:
        return f"`{TEMPLATE_PATH}` on the base branch"
    return (f"the `qna.yaml` template for a [skill]({PROJECT_TEMPLATES['skill']}) or for "
            f"[knowledge]({PROJECT_TEMPLATES['knowledge']})")


def _reply(check: str, message: str) -> str:
    return next((reply for c, pattern, reply in STANDARD_REPLIES if c == check and pattern.search(message)),
                FIXES.get(check, "See the message."))


def names_template(checks_and_messages: Iterable[tuple[str, str]]) -> bool:
    """Whether any of these findings' fixes points at the template (else the bot need not look for it)."""
    return any("{template}" in _reply(check, message) for check, message in checks_and_messages)


def fix_for(check: str, message: str = "", template: str | None = None) -> str:
    """The fix for a finding: a standard reply when one fits its message, else the check's own."""
    return _reply(check, message).replace("{template}", template or template_reference(False))
