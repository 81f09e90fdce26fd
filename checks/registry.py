"""Every check by id, its group, and where its code lives (imported only when selected).

Content checks pull in presidio and sentence-transformers; listing them by module path keeps
`taxonomist check --only structural` from importing any of that.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

STRUCTURAL = "structural"
CONTENT = "content"
PR = "pr"  # checks of PR metadata (template, sign-off): plain Python, so a base install runs them


@dataclass(frozen=True, slots=True)
class CheckSpec:
    id: str
    group: str
    summary: str
    target: str | None = None  # "module:function"; None for checks the reader itself runs
    scope: str = "file"  # "file": run per qna.yaml; "pr": run once on PR metadata

    def load(self) -> Callable[..., Iterable[Any]]:
        assert self.target is not None, f"{self.id} is run by the reader, not loaded"
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("yaml-syntax", STRUCTURAL, "the file is readable, valid YAML within the size limits"),
    CheckSpec("file-name", STRUCTURAL, "the file is named exactly qna.yaml"),
    CheckSpec("yamllint", STRUCTURAL, "yamllint with the repository's configuration (version 2 and up)",
              "checks.structural:check_yamllint"),
    CheckSpec("schema", STRUCTURAL, "the instructlab-schema JSON schema of the file's version",
              "checks.structural:check_schema"),
    CheckSpec("attribution", STRUCTURAL, "a non-empty attribution.txt beside a version 2+ file",
              "checks.structural:check_attribution"),
    CheckSpec("license", STRUCTURAL, "the licence line of attribution.txt allows commercial use and derivatives",
              "checks.license:check_license"),
    CheckSpec("min-examples", STRUCTURAL, "enough seed examples, contexts and questions per context",
              "checks.structural:check_min_examples"),
    CheckSpec("placement", STRUCTURAL, "the file sits in the right taxonomy folder, names without spaces",
              "checks.structural:check_placement"),
    CheckSpec("knowledge-document", STRUCTURAL, "a knowledge document with repo URL, full commit, patterns",
              "checks.structural:check_knowledge_document"),
    CheckSpec("pii", CONTENT, "no personal data in what the contributor wrote (presidio, spaCy)",
              "checks.content.pii:check_pii"),
    CheckSpec("duplicate", CONTENT, "no near-copies of indexed leaves, of each other, or of an existing task",
              "checks.content.duplicate:check_duplicate"),
    CheckSpec("topic", CONTENT, "nothing from the avoid-topics list, no jokes, poems or code",
              "checks.content.topic:check_topic"),
    CheckSpec("llm-text", CONTENT, "no answers that read as LLM output, no proprietary model names",
              "checks.content.llm_text:check_llm_text"),
    CheckSpec("pr-template", PR, "the PR body fills in the pull request template",
              "checks.content.pr_template:check_pr_template", scope="pr"),
    CheckSpec("dco", PR, "every commit is signed off by its author (DCO)",
              "checks.content.dco:check_dco", scope="pr"),
)

BY_ID = {c.id: c for c in CHECKS}
# `content` names everything beyond the structural checks, as it always has (`--skip content` leaves
# the structural group alone); the model-based ones among them need the `content` extra.
GROUPS = {STRUCTURAL: {c.id for c in CHECKS if c.group == STRUCTURAL},
          CONTENT: {c.id for c in CHECKS if c.group in (CONTENT, PR)},
          PR: {c.id for c in CHECKS if c.group == PR}}
NEEDS_CONTENT_EXTRA = tuple(c.id for c in CHECKS if c.group == CONTENT)


# What the content group needs beyond the base install (the `content` extra).
CONTENT_MODULES = ("numpy", "presidio_analyzer", "sentence_transformers", "profanity_check")


def content_installed() -> bool:
    """Whether the `content` extra is installed, without importing any of it."""
    return all(importlib.util.find_spec(name) is not None for name in CONTENT_MODULES)


class SelectionError(ValueError):
    """An unknown check id or group in --only / --skip."""


def select(only: Iterable[str] = (), skip: Iterable[str] = (), disabled: Iterable[str] = ()) -> set[str]:
    """The check ids to run: `only` (ids or groups; all when empty) minus `skip` and `disabled`."""

    def expand(names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for raw in names:
            for name in filter(None, (n.strip() for n in raw.split(","))):
                if name in GROUPS:
                    out |= GROUPS[name]
                elif name in BY_ID:
                    out.add(name)
                else:
                    known = ", ".join([*GROUPS, *BY_ID])
                    raise SelectionError(f"unknown check or group {name!r} (known: {known})")
        return out

    chosen = expand(only) if any(only) else set(BY_ID)
    return chosen - expand(skip) - expand(disabled)
