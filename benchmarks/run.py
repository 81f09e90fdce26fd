"""`make bench`: run every benchmarks/bench_*.py (or those named: `make bench ONLY="structural content"`).

Options: `--sealed PATH` also measures the precheck's verdicts on another labelled set of the same
schema (benchmarks/data/precheck/README.md), read once: `benchmarks/run.py precheck --sealed PATH`;
`--verdicts-only` skips the precheck's timings (the same as PRECHECK_SEALED and PRECHECK_VERDICTS_ONLY=1).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main(names: list[str]) -> int:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        modules = [m for m in modules if m.removeprefix("bench_") in names]
    failed = []
    for name in modules:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


def options(argv: list[str]) -> list[str]:
    """The benchmark names of `argv`; its options go to the environment the benchmarks read."""
    names, args = [], iter(argv)
    for arg in args:
        if arg == "--sealed" or arg.startswith("--sealed="):
            path = arg.partition("=")[2] or next(args, "")
            if not path or not Path(path).is_file():
                sys.exit(f"--sealed: no such file: {path!r}")
            os.environ["PRECHECK_SEALED"] = str(Path(path).resolve())
        elif arg == "--verdicts-only":
            os.environ["PRECHECK_VERDICTS_ONLY"] = "1"
        elif arg in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        else:
            names.append(arg)
    return names


if __name__ == "__main__":
    sys.exit(main(options(sys.argv[1:]) or os.environ.get("ONLY", "").split()))
