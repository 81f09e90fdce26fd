"""Pull request metadata as plain data: what `pr-template` and `dco` read, built by the bot from the
API or read from `taxonomist check --pr PR.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PrError(ValueError):
    """The PR metadata is malformed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    message: str
    author_name: str
    author_email: str


@dataclass(frozen=True, slots=True)
class PullRequest:
    """The body, the commits and (optionally) the repository's pull request template text."""

    body: str
    commits: tuple[Commit, ...] = field(default_factory=tuple)
    template: str | None = None

    @classmethod
    def from_dict(cls, data: Any, source: str = "PR metadata") -> PullRequest:
        if not isinstance(data, dict):
            raise PrError(f"{source}: expected a JSON object with body and commits")
        body = data.get("body") or ""
        if not isinstance(body, str):
            raise PrError(f"{source}: body must be a string")
        template = data.get("template")
        if template is not None and not isinstance(template, str):
            raise PrError(f"{source}: template must be a string")
        raw = data.get("commits", [])
        if not isinstance(raw, list):
            raise PrError(f"{source}: commits must be a list")
        commits = []
        for i, c in enumerate(raw):
            if not isinstance(c, dict):
                raise PrError(f"{source}: commits[{i}] must be an object")
            values = {}
            for key in ("sha", "message", "author_name", "author_email"):
                value = c.get(key)
                if not isinstance(value, str):
                    raise PrError(f"{source}: commits[{i}].{key} must be a string")
                values[key] = value
            commits.append(Commit(**values))
        return cls(body=body, commits=tuple(commits), template=template)

    @classmethod
    def load(cls, path: Path, template_path: Path | None = None) -> PullRequest:
        """Read `--pr PR.json`; the template defaults to the file at `template_path` when it exists."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise PrError(f"{path}: cannot read the PR metadata: {exc}") from None
        except json.JSONDecodeError as exc:
            raise PrError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
        pr = cls.from_dict(data, str(path))
        if pr.template is None and template_path is not None and template_path.is_file():
            pr = cls(pr.body, pr.commits, template_path.read_text(encoding="utf-8"))
        return pr
