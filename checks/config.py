"""The repository configuration, `.github/taxonomist.yml`: defaults that match upstream.

Read from the base branch by the bot (a PR must not relax its own checks) and from the
taxonomy root by `taxonomist check`. An unknown key or a wrong type is an error that names
the file, line and key: a typo must never silently turn a check off.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from checks.document import Document, DocumentError, Limits, format_yaml_path

CONFIG_PATH = ".github/taxonomist.yml"
DEFAULT_YAMLLINT = "{extends: relaxed, rules: {line-length: disable}}"


class ConfigError(Exception):
    """The configuration file is unusable; the message says where and why."""


@dataclass(frozen=True, slots=True)
class MinExamples:
    skill: int = 5
    knowledge_contexts: int = 5
    questions_per_context: int = 3


@dataclass(frozen=True, slots=True)
class PiiConfig:
    block: tuple[str, ...] = (
        "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
        "PASSPORT", "DRIVER_LICENSE", "NATIONAL_ID", "POSTAL_ADDRESS",
    )
    warn: tuple[str, ...] = ("PERSON",)
    allow: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DuplicateConfig:
    block_at: float = 0.95
    warn_at: float = 0.88
    same_task_at: float = 0.6  # leaf centroids: same task with new examples (calibrated, docs/content-checks.md)


@dataclass(frozen=True, slots=True)
class LicenseConfig:
    # Open licences that allow commercial use and derivatives (upstream's FAQ), by SPDX id; the
    # share-alike ones are in since upstream's taxonomy is full of Wikipedia (CC-BY-SA-4.0).
    allowed: tuple[str, ...] = (
        "CC0-1.0", "CDLA-Permissive-2.0", "CC-BY-4.0", "Apache-2.0", "MIT", "CDLA-Permissive-1.0",
        "CC-BY-3.0", "CC-BY-SA-4.0", "CC-BY-SA-3.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD",
        "Unlicense", "PDDL-1.0", "ODC-By-1.0", "OGL-UK-3.0", "public-domain",
    )


@dataclass(frozen=True, slots=True)
class ChecksConfig:
    schema_version: str | int = "latest"
    yamllint: str = DEFAULT_YAMLLINT
    min_examples: MinExamples = field(default_factory=MinExamples)
    max_context_words: int = 500
    limits: Limits = field(default_factory=Limits)
    disable: tuple[str, ...] = ()
    pii: PiiConfig = field(default_factory=PiiConfig)
    duplicates: DuplicateConfig = field(default_factory=DuplicateConfig)
    licenses: LicenseConfig = field(default_factory=LicenseConfig)


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    maintainers: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    triagers: tuple[str, ...] = ()
    required_lgtms: int = 2
    merge_method: str = "squash"
    keep_approvals_on_push: bool = False
    labels: tuple[str, ...] = (
        "triage-needed", "triage-requested-changes", "triage-approved", "triage-uncertain",
        "triage-rejected", "precheck-generate-ready",
    )


@dataclass(frozen=True, slots=True)
class WelcomeConfig:
    enabled: bool = False
    message: str = ""  # extra text after the standard welcome (markdown)


@dataclass(frozen=True, slots=True)
class AssignConfig:
    enabled: bool = False  # needs `review.triagers`
    reviewers: int = 1  # triagers requested per PR
    max_load: int = 10  # open PRs a triager may already be requested on before being skipped


@dataclass(frozen=True, slots=True)
class NeedsRebaseConfig:
    enabled: bool = False
    label: str = "needs-rebase"


@dataclass(frozen=True, slots=True)
class SizeConfig:
    enabled: bool = False
    # upper bounds for size/S, size/M, size/L; past the last one: size/XL. The larger of the two sizes wins.
    examples: tuple[int, ...] = (10, 30, 100)
    leaves: tuple[int, ...] = (1, 3, 10)


@dataclass(frozen=True, slots=True)
class StaleConfig:
    enabled: bool = False
    warn_after_days: int = 30  # days without activity before the warning comment
    label_after_days: int = 14  # days after the warning before the `stale` label
    label: str = "stale"
    exempt_labels: tuple[str, ...] = ("community-build-ready", "legal-hold")
    paused: bool = False  # stop every stale clock (e.g. while the pipeline is down for maintenance)


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    """The bot's PR lifecycle: upstream has none of it, so each feature is off until configured."""

    welcome: WelcomeConfig = field(default_factory=WelcomeConfig)
    assign: AssignConfig = field(default_factory=AssignConfig)
    needs_rebase: NeedsRebaseConfig = field(default_factory=NeedsRebaseConfig)
    size: SizeConfig = field(default_factory=SizeConfig)
    stale: StaleConfig = field(default_factory=StaleConfig)


@dataclass(frozen=True, slots=True)
class PrecheckConfig:
    """How `taxonomist precheck` turns the model's answers into a verdict per file (docs/precheck.md)."""

    enabled: bool = True            # the bot runs it on every head whose structural checks pass
    correct_at: float = 0.65        # an answer with this share of the reference's facts, none contradicted: correct
    partly_at: float = 0.3          # ... and partly correct from this share on
    similar_correct_at: float = 0.3  # a text task (no facts): similarity without the question's words, correct
    similar_partly_at: float = 0.15  # ... and partly
    known_share: float = 1.0        # a file is `known` when at least this share of its answers are correct
    partly_known_share: float = 0.2  # `partly-known` when correct plus half the partly ones reach this share
    max_questions: int = 20         # questions asked per push, all files together (a deterministic sample)
    time_budget_s: int = 300        # files not reached after this many seconds are reported `not-asked`


@dataclass(frozen=True, slots=True)
class RepoConfig:
    checks: ChecksConfig = field(default_factory=ChecksConfig)
    review: ReviewConfig = field(default_factory=ReviewConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    precheck: PrecheckConfig = field(default_factory=PrecheckConfig)


_STR_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}
_POS_INT = {"type": "integer", "minimum": 1}
_RATIO = {"type": "number", "minimum": 0, "maximum": 1}
_BOUNDS = {"type": "array", "items": _POS_INT, "minItems": 3, "maxItems": 3}


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props}


SCHEMA: dict[str, Any] = _obj({
    "checks": _obj({
        "schema_version": {"oneOf": [{"enum": ["latest", "own"]}, _POS_INT]},
        "yamllint": {"type": "string"},
        "min_examples": _obj({
            "skill": _POS_INT, "knowledge_contexts": _POS_INT, "questions_per_context": _POS_INT,
        }),
        "max_context_words": _POS_INT,
        "limits": _obj({key: _POS_INT for key in (
            "max_bytes", "max_depth", "max_nodes", "max_expanded_chars",
            "yamllint_max_bytes", "yamllint_max_lines", "yamllint_max_nodes")}),
        "disable": _STR_LIST,
        "pii": _obj({"block": _STR_LIST, "warn": _STR_LIST, "allow": _STR_LIST}),
        "duplicates": _obj({"block_at": _RATIO, "warn_at": _RATIO, "same_task_at": _RATIO}),
        "licenses": _obj({"allowed": _STR_LIST}),
    }),
    "review": _obj({
        "maintainers": _STR_LIST,
        "approvers": _STR_LIST,
        "triagers": _STR_LIST,
        "required_lgtms": _POS_INT,
        "merge_method": {"enum": ["merge", "squash", "rebase"]},
        "keep_approvals_on_push": {"type": "boolean"},
        "labels": _STR_LIST,
    }),
    "lifecycle": _obj({
        "welcome": _obj({"enabled": {"type": "boolean"}, "message": {"type": "string"}}),
        "assign": _obj({"enabled": {"type": "boolean"}, "reviewers": _POS_INT, "max_load": _POS_INT}),
        "needs_rebase": _obj({"enabled": {"type": "boolean"}, "label": {"type": "string", "minLength": 1}}),
        "size": _obj({"enabled": {"type": "boolean"}, "examples": _BOUNDS, "leaves": _BOUNDS}),
        "stale": _obj({
            "enabled": {"type": "boolean"}, "warn_after_days": _POS_INT, "label_after_days": _POS_INT,
            "label": {"type": "string", "minLength": 1}, "exempt_labels": _STR_LIST, "paused": {"type": "boolean"},
        }),
    }),
    "precheck": _obj({
        "enabled": {"type": "boolean"},
        "correct_at": _RATIO, "partly_at": _RATIO, "similar_correct_at": _RATIO, "similar_partly_at": _RATIO,
        "known_share": _RATIO, "partly_known_share": _RATIO, "max_questions": _POS_INT, "time_budget_s": _POS_INT,
        # Retired when answers came to be graded by their facts (issue 21): still valid, so a repository's
        # configuration written for the similarity score keeps working, and ignored (docs/precheck.md).
        "metric": {"enum": ["similarity", "judge", "mean"]}, "example_known_at": _RATIO,
    }),
})
_VALIDATOR = Draft202012Validator(SCHEMA)


def _build(cls: type, values: dict[str, Any]) -> Any:
    """A config dataclass from validated values, nested dataclasses included, lists as tuples."""
    kwargs: dict[str, Any] = {}
    defaults = cls()
    for f in fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        current = getattr(defaults, f.name)
        if is_dataclass(current):
            value = _build(type(current), value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


_OPERATOR = ("is the bot operator's setting ({env}), never a repository's: a URL or model named by a "
             "repository's file could point inside the operator's network")
# Keys a repository may think it can set under `precheck:` but which only the operator sets: refused with why.
OPERATOR_ONLY = {
    **{key: f"`{key}` " + _OPERATOR.format(env="TAXONOMIST_PRECHECK_JUDGE_URL")
       for key in ("judge", "judge_url", "judge_endpoint")},
    "judge_model": "`judge_model` " + _OPERATOR.format(env="TAXONOMIST_PRECHECK_JUDGE_MODEL"),
    "judge_api_key": "`judge_api_key` " + _OPERATOR.format(env="TAXONOMIST_PRECHECK_JUDGE_API_KEY"),
    **{key: f"`{key}` " + _OPERATOR.format(env="TAXONOMIST_PRECHECK_MODEL") for key in ("model", "model_url")},
}


def parse_config(text: str, source: str = CONFIG_PATH) -> RepoConfig:
    """Validate and build the configuration from the file's text."""
    try:
        doc = Document.parse(text)
    except DocumentError as exc:
        where = f"{source}:{exc.line}:{exc.column}" if exc.line else source
        raise ConfigError(f"{where}: {exc.message}") from None
    data = doc.data if doc.data is not None else {}
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        err = errors[0]
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            path = (*path, extra[0])
            allowed = ", ".join(err.schema.get("properties", {}))
            message = (OPERATOR_ONLY[extra[0]] if path[:1] == ("precheck",) and extra[0] in OPERATOR_ONLY
                       else f"unknown key `{extra[0]}` (known keys here: {allowed})")
            line, col = doc.positions.locate(path, key=True)
        else:
            message = err.message
            line, col = doc.positions.locate(path)
        raise ConfigError(f"{source}:{line}:{col}: {format_yaml_path(path)}: {message}")
    return _build(RepoConfig, data)


def load_config(path: Path | None) -> RepoConfig:
    """The configuration at `path`, or the defaults when there is no such file."""
    if path is None or not path.exists():
        return RepoConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    return parse_config(text, str(path))
