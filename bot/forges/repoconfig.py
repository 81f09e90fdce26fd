"""The repository's configuration as the bot reads it: from the base branch, never from the PR.

Both triage and the review workflow read it; it lives below both so neither imports the other.
"""

from __future__ import annotations

from bot.forges.forge import Forge, PullRequest
from checks.config import CONFIG_PATH, RepoConfig, parse_config


def read_config(forge: Forge, pr: PullRequest) -> RepoConfig:
    """The configuration from the base branch: a PR never relaxes its own checks."""
    data = forge.read_file(CONFIG_PATH, pr.base_ref)
    if data is None:
        return RepoConfig()
    return parse_config(data.decode("utf-8", errors="replace"), f"{CONFIG_PATH}@{pr.base_ref}")
