"""A short "how to fix" per check id, for the comment's Fix column; the message says what is wrong."""

from __future__ import annotations

FIXES: dict[str, str] = {
    "yaml-syntax": "Make the file valid YAML (check indentation and quoting) under the size limit.",
    "file-name": "Rename the file to `qna.yaml`.",
    "yamllint": "Remove trailing spaces, fix indentation; run `yamllint` locally.",
    "schema": "Compare with `docs/template_qna.yaml`: required keys, types, `version: 3`.",
    "attribution": "Add a non-empty `attribution.txt` beside `qna.yaml` (title, link, license, creator).",
    "license": "Name the source's licence in `attribution.txt` (`License of the work: CC-BY-4.0`); "
               "content that forbids commercial use or derivatives cannot be trained on.",
    "min-examples": "Add seed examples: 5 for a skill; 5 contexts with 3 Q&A each for knowledge.",
    "placement": "Move the leaf to the right folder; use folder names without spaces.",
    "knowledge-document": "Give `document` a `repo` URL, a full 40-hex `commit` and `patterns`.",
    "pii": "Remove personal data (e-mails, phone numbers, names of private people).",
    "duplicate": "Make the examples different from the existing leaf, or extend that leaf instead.",
    "topic": "Pick content outside the topics the taxonomy avoids (see the contribution guide).",
    "llm-text": "Write the answers yourself; do not paste output of an LLM.",
    "pr-template": "Fill in every section of the pull request template.",
    "dco": "Sign off every commit: `git commit -s --amend`, then force-push.",
}


def fix_for(check: str) -> str:
    return FIXES.get(check, "See the message.")
