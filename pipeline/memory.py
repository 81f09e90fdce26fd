"""The build's memory: glibc's allocator tuned for long CPU jobs, each stage's peak measured, and the budget.

glibc's allocator is tuned for the build's long CPU jobs, which free big tensors all the time.

Left alone, glibc keeps freed memory in the process: its mmap threshold grows to 32 MB as large
tensors are freed, and every thread that allocates gets its own heap (arena), each holding on to
what it freed. Both show up as peak RSS, not as speed. On another C library (musl) or another
system, these do nothing.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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


def return_freed() -> None:
    """Hand the heaps' free pages back to the system now (`malloc_trim`). The teacher frees a batch's
    cache each time rows join or leave, in blocks below glibc's mmap threshold: kept, they piled up to
    4 GB resident on taxonomy-2024-08 with about 1 GB live."""
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def share_heaps() -> None:
    """At most two heaps for all threads: the in-process teacher's rounds run on whichever flow thread
    is waiting, so with eight threads each would keep its own heap of freed KV caches (10 real
    leaves at concurrency 8: 6.6 GB peak, 4.2 GB with two heaps, same speed)."""
    _mallopt(M_ARENA_MAX, 2)


# ---- measuring and budgeting: each stage's peak, and the machine's limit ----------------------------------

UNLIMITED = 1 << 60  # cgroup files write "max" (v2) or a value near 2**63 (v1) for no limit
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)


class MemoryBudgetError(RuntimeError):
    """A stage would not fit in the machine's memory limit: stopped before it started, the finished stages kept."""


def parse_size(text: str) -> int:
    """Bytes from `4G`, `3.5GiB`, `4096M` or `4000000000`."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"not a memory size: {text!r} (expected e.g. 4G, 4096M or a number of bytes)")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    bytes: int
    source: str  # where the figure comes from, for the message a person reads


def _cgroup_limit(proc_cgroup: Path, root: Path) -> MemoryLimit | None:
    """The tightest memory limit on this process's cgroup and its parents (v2 `memory.max`, v1
    `memory.limit_in_bytes`); a container sees its own cgroup as the root, so the root counts too."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    candidates: list[tuple[Path, str]] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            candidates.append((root / path.lstrip("/"), "memory.max"))
        elif "memory" in controllers.split(","):
            candidates.append((root / "memory" / path.lstrip("/"), "memory.limit_in_bytes"))
    best: MemoryLimit | None = None
    for folder, name in candidates:
        for level in (folder, *(p for p in folder.parents if p == root or root in p.parents)):
            file = level / name
            try:
                text = file.read_text().strip()
            except OSError:
                continue
            value = UNLIMITED if text == "max" else int(text)
            if value < UNLIMITED and (best is None or value < best.bytes):
                best = MemoryLimit(value, f"cgroup limit ({file})")
    return best


def memory_limit(environ: Mapping[str, str] = os.environ, proc_cgroup: Path = Path("/proc/self/cgroup"),
                 root: Path = Path("/sys/fs/cgroup")) -> MemoryLimit:
    """What the build may use: `TAXONOMIST_MEMORY_LIMIT` when set, else the cgroup limit (CI runners,
    containers), else the machine's physical memory."""
    configured = environ.get("TAXONOMIST_MEMORY_LIMIT")
    if configured:
        return MemoryLimit(parse_size(configured), "TAXONOMIST_MEMORY_LIMIT")
    limit = _cgroup_limit(proc_cgroup, root)
    if limit is not None:
        return limit
    return MemoryLimit(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "physical memory")


def _status_kb(pid: int | str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                children = [int(c) for c in task.read_text().split()]
            except (OSError, ValueError):
                continue
            found += children
            todo += children
    return found


class PeakMemory:
    """The peak resident memory of this process and its children while a block runs, measured, not estimated.

    This process: the kernel's high-water mark (`VmHWM`) when the block raised it, else (an earlier
    stage set it) the highest resident size sampled during the block. The mark is never reset: a reset
    would also reset what GNU time and `getrusage` report for the whole run. Children (torchrun's or
    accelerate's workers, a model conversion): their resident sizes added to ours, sampled every
    `interval` seconds. Elsewhere than on Linux, the process's lifetime peak from `getrusage`.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._own = 0  # the highest own resident size sampled, bytes
        self._with_children = 0
        self._mark = 0  # VmHWM when the block started, kB
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if sys.platform == "linux":
            self._mark = _status_kb("self", "VmHWM")
            self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        me = os.getpid()
        while True:
            own = _status_kb(me, "VmRSS") * 1024
            self._own = max(self._own, own)
            if children := _descendants(me):
                total = own + sum(_status_kb(c, "VmRSS") for c in children) * 1024
                self._with_children = max(self._with_children, total)
            if self._stop.wait(self.interval):
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            mark = _status_kb("self", "VmHWM")
            own = mark * 1024 if mark > self._mark else max(self._own, _status_kb("self", "VmRSS") * 1024)
        else:
            import resource

            own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        self.peak_bytes = max(own, self._with_children)
