"""glibc's allocator tuned for the build's long CPU jobs, which free big tensors all the time.

Left alone, glibc keeps freed memory in the process: its mmap threshold grows to 32 MB as large
tensors are freed, and every thread that allocates gets its own heap (arena), each holding on to
what it freed. Both show up as peak RSS, not as speed. On another C library (musl) or another
system, these do nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager

M_MMAP_THRESHOLD = -3  # mallopt's parameter numbers, from glibc's malloc.h
M_ARENA_MAX = -8
GLIBC_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # where glibc's own threshold ends up once big blocks are freed


def _mallopt(parameter: int, value: int) -> None:
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(parameter, value)


@contextmanager
def freed_memory_returned() -> Iterator[None]:
    """Within: large freed blocks go back to the system at once (training: bench_train, real-taxonomy
    micro-batch, 13.8 GB peak without this, 8.8 GB with it; docs/build.md). After: glibc's usual
    large threshold again, because the teacher and evaluation that follow in the same process
    allocate KV caches all the time, and mapping each afresh made generation 1.7 times slower."""
    _mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    try:
        yield
    finally:
        _mallopt(M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD_MAX)


def share_heaps() -> None:
    """At most two heaps for all threads: the in-process teacher's rounds run on whichever flow thread
    is waiting, so with eight threads each would keep its own heap of freed KV caches (10 real
    leaves at concurrency 8: 6.6 GB peak, 4.2 GB with two heaps, same speed)."""
    _mallopt(M_ARENA_MAX, 2)
