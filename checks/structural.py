"""The structural checks: what upstream's TaxonomyParser and the PR checklist ask for.

Each check is a generator of findings for one parsed file; the reader (`checks.runner`)
has already reported `yaml-syntax` and `file-name`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from checks.context import CheckContext
from checks.document import Limits
from checks.findings import Finding, Severity, plural
from checks.qna import QnaFile
from checks.schema import (
    available_versions,
    excerpt,
    explain,
    iter_errors,
    missing_key,
    misspellings,
    schema_for,
    schema_name_for,
    unexpected_keys,
    yaml_path,
)

ERROR, WARNING = Severity.ERROR, Severity.WARNING


@functools.cache
def _yamllint_config(text: str) -> Any:
    from yamllint.config import YamlLintConfig

    return YamlLintConfig(text)


def _too_big_to_lint(qna: QnaFile, limits: Limits) -> str | None:
    """Why yamllint would cost too much on this file (it is pure Python), or None."""
    text = qna.document.text
    measures = (
        ("bytes", len(text.encode("utf-8")), limits.yamllint_max_bytes, "yamllint_max_bytes"),
        ("lines", text.count("\n") + 1, limits.yamllint_max_lines, "yamllint_max_lines"),
        ("values", len(qna.document.positions.values), limits.yamllint_max_nodes, "yamllint_max_nodes"),
    )
    for what, have, bound, key in measures:
        if have > bound:
            return f"the file has {have:,} {what}, more than the {bound:,} yamllint is run on (checks.limits.{key})"
    return None


def check_yamllint(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    """yamllint in-process, for version 2 and up as upstream does (v1 files predate the rule)."""
    if qna.version <= 1:
        return
    too_big = _too_big_to_lint(qna, ctx.config.limits)
    if too_big:
        # Not linted is not clean: the file cannot pass until it is split or the bound is raised.
        yield qna.finding("yamllint", ERROR, f"not run: {too_big}; split the contribution into smaller leaves")
        return
    from yamllint import linter

    # The text already parsed, so yamllint's own (pure-Python) syntax pass is skipped.
    for problem in linter.get_cosmetic_problems(qna.document.text, _yamllint_config(ctx.config.yamllint), None):
        severity = ERROR if problem.level == "error" else WARNING
        yield Finding("yamllint", severity, f"{problem.desc} ({problem.rule})", qna.path,
                      problem.line, problem.column)


def check_schema(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    version, data = qna.version, qna.data
    name = schema_name_for(qna.top_folder, data)
    if version not in available_versions():
        known = ", ".join(map(str, available_versions()))
        yield qna.finding("schema", ERROR,
                          f"there is no schema version {version} (known: {known}); "
                          f"set `version: {available_versions()[-1]}`", ("version",))
        return
    schema = schema_for(version, name)
    if schema.get("deprecated"):
        advice = f"; convert the file to version {available_versions()[-1]} (see the template)"
        yield qna.finding("schema", ERROR, f"{schema.get('description', 'deprecated schema')}{advice}",
                          ("version",) if "version" in data else ())
        return
    for group in grouped_errors(list(iter_errors(data, version, name)), version):
        error = group[0]
        at = tuple(error.absolute_path)
        on_key = False
        if error.validator in ("unevaluatedProperties", "additionalProperties"):
            extra = unexpected_keys(error, version)
            if extra:
                at, on_key = (*at, extra[0]), True
        message = explain(error, version, name)
        if len(group) > 1:
            others = [yaml_path(e.absolute_path) for e in group[1:]]
            shown = ", ".join(f"`{p}`" for p in others[:MAX_PLACES_NAMED])
            more = f" and {len(others) - MAX_PLACES_NAMED} more" if len(others) > MAX_PLACES_NAMED else ""
            message += f" (the same in {plural(len(others), 'more place')}: {shown}{more})"
        yield qna.finding("schema", ERROR, message, at, key=on_key)


MAX_PLACES_NAMED = 4


def grouped_errors(errors: list[Any], version: int) -> list[list[Any]]:
    """Schema errors as findings: a misspelled key is one finding, not also the `required` error of the key
    it was meant to be; and the same unknown keys repeated in every example are one finding for all of them
    (five examples with `anwser:` are one error, not ten)."""
    meant = {(tuple(e.absolute_path), key) for e in errors for key in misspellings(e, version).values()}
    groups: dict[Any, list[Any]] = {}
    for number, error in enumerate(errors):
        if error.validator == "required" and (tuple(error.absolute_path), missing_key(error)) in meant:
            continue
        same = (error.message, tuple("*" if isinstance(p, int) else p for p in error.absolute_path)) \
            if error.validator in ("unevaluatedProperties", "additionalProperties") else number
        groups.setdefault(same, []).append(error)
    return list(groups.values())


def check_attribution(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    if qna.version <= 1:
        return
    text = qna.source.sibling("attribution.txt")
    if text is None:
        yield qna.finding("attribution", ERROR,
                          'The "attribution.txt" file does not exist or is not a file: add one beside '
                          "qna.yaml naming the source (title, link, revision, license, creator), or saying "
                          "`Self-authored` if you wrote the content yourself")
    elif not text.strip():
        yield qna.finding("attribution", ERROR,
                          '"attribution.txt" is empty: name the source of the content '
                          "(title, link, revision, license, creator), or write `Self-authored` if you wrote it")


def _schema_min(version: int, schema_name: str, *path: str) -> int:
    """The minItems the schema itself enforces at `path`, so counts are not reported twice."""
    if version not in available_versions():
        return 0
    node: Any = schema_for(version, schema_name)
    for key in path:
        node = node.get("properties", {}).get(key, {}) if key != "[]" else node.get("items", {})
    return int(node.get("minItems", 0))


def check_min_examples(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    limits = ctx.config.min_examples
    examples = qna.data.get("seed_examples")
    if not isinstance(examples, list):
        return  # the schema check reports a missing or mistyped list
    name = schema_name_for(qna.top_folder, qna.data)
    if qna.is_knowledge:
        floor = _schema_min(qna.version, name, "seed_examples")
        if floor <= len(examples) < limits.knowledge_contexts:
            yield qna.finding("min-examples", ERROR,
                              f"{len(examples)} contexts; a knowledge contribution needs at least "
                              f"{limits.knowledge_contexts}, each with {limits.questions_per_context} "
                              "questions and answers", ("seed_examples",))
        qa_floor = _schema_min(qna.version, name, "seed_examples", "[]", "questions_and_answers")
        for i, example in enumerate(examples):
            if not isinstance(example, dict):
                continue
            qas = example.get("questions_and_answers")
            if isinstance(qas, list) and qa_floor <= len(qas) < limits.questions_per_context:
                yield qna.finding("min-examples", ERROR,
                                  f"{len(qas)} questions for this context; at least "
                                  f"{limits.questions_per_context} are needed",
                                  ("seed_examples", i, "questions_and_answers"))
            context = example.get("context")
            if isinstance(context, str):
                words = len(context.split())
                if words > ctx.config.max_context_words:
                    yield qna.finding("min-examples", WARNING,
                                      f"context has {words} words; keep each context under about "
                                      f"{ctx.config.max_context_words} words so the teacher sees all of it",
                                      ("seed_examples", i, "context"))
    else:
        floor = _schema_min(qna.version, name, "seed_examples")
        if floor <= len(examples) < limits.skill:
            yield qna.finding("min-examples", ERROR,
                              f"{len(examples)} seed examples; a skill needs at least {limits.skill}: "
                              "add more varied question and answer pairs", ("seed_examples",))


def check_placement(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    tax = qna.tax_path
    if tax is None:
        yield qna.finding("placement", ERROR,
                          "the file is outside the taxonomy folders: contributions go under "
                          "compositional_skills/ or knowledge/")
        return
    folders = tax.parts[:-1]
    if len(folders) < 2:
        yield qna.finding("placement", ERROR,
                          f"qna.yaml sits directly in {folders[0]}/: put it in a folder named for "
                          "the skill or topic")
    spaced = [f for f in folders if re.search(r"\s", f)]
    if spaced:
        yield qna.finding("placement", ERROR,
                          f"folder name {spaced[0]!r} contains whitespace: use underscores")
    has_document = "document" in qna.data
    if qna.kind == "foundational":
        yield qna.finding("placement", WARNING,
                          "foundational_skills/ is maintained upstream and not trained from contributions: "
                          "move this to compositional_skills/ or knowledge/")
    elif qna.kind == "skill" and has_document:
        yield qna.finding("placement", ERROR,
                          "a knowledge file (it has a `document`) under compositional_skills/: "
                          "move it under knowledge/", ("document",), key=True)
    elif qna.kind == "knowledge" and not has_document:
        yield qna.finding("placement", ERROR,
                          "a skill file (no `document`) under knowledge/: move it under "
                          "compositional_skills/, or add the knowledge document")
    elif qna.kind == "skill":
        in_grounded = "grounded" in folders
        if qna.is_grounded and not in_grounded:
            yield qna.finding("placement", WARNING,
                              "examples have a `context`, so this is a grounded skill: "
                              "put it under a grounded/ folder", ("seed_examples",))
        elif in_grounded and not qna.is_grounded:
            yield qna.finding("placement", WARNING,
                              "under grounded/ but no example has a `context`: add contexts, "
                              "or move it under freeform/", ("seed_examples",))


_REPO_URL = re.compile(r"^(https?|ssh|git|file)://[^\s]+$|^[\w.-]+@[\w.-]+:[^\s]+$")
_FILE_URL = re.compile(r"/(blob|tree|raw)/")
_FULL_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")


def check_knowledge_document(qna: QnaFile, ctx: CheckContext) -> Iterator[Finding]:
    document = qna.data.get("document")
    if not qna.is_knowledge or not isinstance(document, dict):
        return
    repo, commit, patterns = document.get("repo"), document.get("commit"), document.get("patterns")
    if isinstance(repo, str):
        at = ("document", "repo")
        if not _REPO_URL.match(repo.strip()):
            yield qna.finding("knowledge-document", ERROR,
                              f"repo {excerpt(repo)} is not a git URL: use the repository's clone URL, "
                              "e.g. https://github.com/OWNER/REPO", at)
        elif _FILE_URL.search(repo):
            yield qna.finding("knowledge-document", ERROR,
                              "repo points at a file or folder view, not a repository: use "
                              "https://github.com/OWNER/REPO and put the file in `patterns`", at)
        elif repo.startswith(("http://", "file://")):
            yield qna.finding("knowledge-document", WARNING,
                              f"repo uses {repo.split(':')[0]}://; reviewers and the build expect https://", at)
    if isinstance(commit, str) and not _FULL_SHA.match(commit.strip()):
        yield qna.finding("knowledge-document", ERROR,
                          f"commit {excerpt(commit)} is not a full commit SHA: use all 40 hex characters "
                          "(git rev-parse HEAD), not a short SHA, a branch or a tag", ("document", "commit"))
    if isinstance(patterns, list):
        for i, pattern in enumerate(patterns):
            if not isinstance(pattern, str) or not pattern.strip():
                yield qna.finding("knowledge-document", ERROR,
                                  "an empty pattern: name the document files, e.g. `*.md`",
                                  ("document", "patterns", i))
            elif pattern.startswith("/") or ".." in pattern.split("/"):
                yield qna.finding("knowledge-document", ERROR,
                                  f"pattern {excerpt(pattern)} leaves the repository: use a path relative "
                                  "to the repository root", ("document", "patterns", i))
        if not patterns:
            yield qna.finding("knowledge-document", ERROR,
                              "`patterns` is empty: list the document files, e.g. `*.md`",
                              ("document", "patterns"))
