"""Hostile qna.yaml files within the size limit, and a guarded run of the structural checks on one.

Shared by `tests/security/test_hostile_yaml.py` (each must end in findings under the guard) and
`benchmarks/bench_hostile.py` (time and peak memory of each beside a typical file). The checks run
in a child process with an address-space and CPU-time limit, so a blow-up kills the child instead
of the machine, and the child reports its own peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Generous beside the 5 s / 500 MB target, tight beside what these files cost unbounded (minutes, GB).
GUARD_SECONDS = 30
GUARD_BYTES = 3 * 1024**3

HEAD = "version: 3\ncreated_by: someone\ntask_description: a task\n"


def examples(n: int) -> str:
    return "seed_examples:\n" + "".join(f"  - question: question {i}?\n    answer: answer {i}\n" for i in range(n))


def alias_bomb() -> str:
    """One anchored 800 KB string, aliased 4,000 times: 864 KB on disk, 3.2 GB written out."""
    big = "x" * 800_000
    rows = "".join("  - question: *big\n    answer: *big\n" for _ in range(2_000))
    return f"version: 3\ncreated_by: someone\ntask_description: &big '{big}'\nseed_examples:\n{rows}"


def manyexamples() -> str:
    """19,000 distinct examples, just under the node bound (jsonschema's uniqueItems is quadratic)."""
    return HEAD + examples(19_000)


def many_keys() -> str:
    """64,000 keys in one mapping (yamllint's key-duplicates rule is quadratic in them)."""
    return HEAD + examples(5) + "".join(f"key{i}: value\n" for i in range(64_000))


def most_keys_linted() -> str:
    """9,900 keys in one mapping: the most yamllint still runs on (checks.limits.yamllint_max_nodes)."""
    return HEAD + examples(5) + "".join(f"key{i}: value\n" for i in range(9_900))


def one_big_string() -> str:
    """A single 4.5 MB answer on one line."""
    return HEAD + examples(4) + "  - question: long?\n    answer: '" + "word " * 900_000 + "'\n"


def many_lines() -> str:
    """A 4.9 MB block scalar of 380,000 short lines."""
    return HEAD + examples(4) + "  - question: lines?\n    answer: |\n" + "      a line\n" * 380_000


def odd_keys() -> str:
    """Keys that YAML reads as a number, a boolean, null, a float and a date."""
    return HEAD + examples(5) + "1: x\nyes: x\n~: x\n3.5: x\n2001-12-14: x\n"


def long_integer() -> str:
    """An integer past Python's 4,300-digit limit for converting text to int."""
    return HEAD + examples(5) + "extra: " + "9" * 5_000 + "\n"


def huge_integers() -> dict[str, str]:
    """Integers past that limit in the notations Python reads at any length: hex, binary, octal (YAML 1.1's
    leading 0), base 60 and underscores; each one alone in a file."""
    notations = {"hex": "0x" + "f" * 100_000, "binary": "0b" + "1" * 300_000, "octal": "0" + "7" * 100_000,
                 "base60": "1" + ":59" * 20_000, "underscores": "-0x" + "f_" * 50_000 + "f"}
    return {name: HEAD + examples(5) + "extra: " + number + "\n" for name, number in notations.items()}


def long_key() -> str:
    """One 70,000-character key (an explicit `? key`; plain keys stop at 1,024): named by an excerpt."""
    return HEAD + examples(5) + "? " + "k" * 70_000 + "\n: x\n"


def recursive_alias() -> str:
    """A collection that holds an alias to itself."""
    return HEAD + examples(5) + "extra: &loop [1, *loop]\n"


CASES: dict[str, Callable[[], str]] = {
    "alias-bomb": alias_bomb,
    "many-examples": manyexamples,
    "many-keys": many_keys,
    "most-keys-linted": most_keys_linted,
    "one-big-string": one_big_string,
    "many-lines": many_lines,
    "odd-keys": odd_keys,
    "long-integer": long_integer,
    **{f"huge-{name}": (lambda text=text: text) for name, text in huge_integers().items()},
    "long-key": long_key,
    "recursive-alias": recursive_alias,
}

_CHILD = """
import json, resource, sys
from checks.runner import Checker
from checks.sources import DiskSource
report = Checker(only=["structural"]).check_file(DiskSource(sys.argv[1]))
usage = resource.getrusage(resource.RUSAGE_SELF)
# ru_maxrss survives exec on Linux (it would report the parent's peak); VmHWM is this process's own.
peak_kb = usage.ru_maxrss
try:
    peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"findings": [f.to_dict() for f in report.findings], "rss_mb": peak_kb / 1024,
                  "cpu_s": usage.ru_utime + usage.ru_stime}))
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    returncode: int
    findings: list[dict]
    seconds: float
    cpu_seconds: float
    rss_mb: float
    stderr: str


def write_leaf(folder: Path, text: str) -> Path:
    """A leaf in a scratch taxonomy: qna.yaml and a non-empty attribution.txt."""
    leaf = folder / "compositional_skills" / "hostile" / "case"
    leaf.mkdir(parents=True, exist_ok=True)
    (leaf / "attribution.txt").write_text("Title of work: mine\nLicense of the work: CC-BY-4.0\n")
    path = leaf / "qna.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _guard() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GUARD_BYTES, GUARD_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (GUARD_SECONDS, GUARD_SECONDS))


def run_guarded(path: Path) -> Outcome:
    """The structural checks on `path` in a child under the guard; a killed child has no findings."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                          env=env, preexec_fn=_guard, timeout=GUARD_SECONDS * 4)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return Outcome(done.returncode, [], seconds, 0.0, 0.0, done.stderr[-2000:])
    result = json.loads(done.stdout)
    return Outcome(0, result["findings"], seconds, result["cpu_s"], result["rss_mb"], done.stderr[-2000:])
