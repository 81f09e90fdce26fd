"""checks.lazy: the one pattern for process-wide models and tables."""

from __future__ import annotations

import pytest

from checks.lazy import Lazy


def test_lazy_builds_once_and_retries_a_failed_build() -> None:
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("not installed yet")
        return 42

    lazy = Lazy(build)
    with pytest.raises(OSError):
        lazy.get()
    assert [lazy.get(), lazy.get()] == [42, 42] and len(calls) == 2
