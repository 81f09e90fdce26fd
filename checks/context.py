"""What every check gets besides the file: the configuration and the run's shared inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.config import ChecksConfig


@dataclass(frozen=True, slots=True)
class CheckContext:
    config: ChecksConfig
    schema_mode: str | int = "latest"
    index: Any = None  # an embedding index of already-merged and open content (duplicate check)
    pr: Any = None  # PR metadata as plain data (pr-template, dco)
