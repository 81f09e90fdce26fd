"""The content settings of `.github/taxonomist.yml`: read when valid, refused with a position when not."""

from __future__ import annotations

import pytest

from checks.config import ConfigError, parse_config


def test_content_settings_are_read() -> None:
    config = parse_config("checks:\n  duplicates: {warn_at: 0.9, same_task_at: 0.7}\n  pii: {allow: [a@b.org]}\n")
    assert config.checks.duplicates.same_task_at == 0.7 and config.checks.duplicates.block_at == 0.95
    assert config.checks.pii.allow == ("a@b.org",)


def test_out_of_range_threshold_is_refused() -> None:
    with pytest.raises(ConfigError, match=r":2:.*same_task_at.*greater than the maximum"):
        parse_config("checks:\n  duplicates: {same_task_at: 2}\n")
