"""The sticky comment's length in table rows for the corpus PRs, before and after folding repeats.

Before: one row per finding (as the comment was rendered until findings were folded), capped as the
comment caps them. After: the rows `bot.triage.render.render_comment` writes (one per file, check and
message, with the lines listed). Structural checks plus the content checks that do not need the
duplicate index or presidio (`topic`, `llm-text`: where the repeats are, e.g. PR 389's eleven
knock-knock rows). Every third PR by default (about 4 minutes on two shared cores);
`BENCH_COMMENT_STRIDE=1` runs all 918 (about 12 minutes there).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

CHECKS = ("structural", "topic", "llm-text")


def corpus() -> Path | None:
    path = Path(os.environ.get("TAXONOMIST_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    return path if (path / "taxonomy-prs" / "index.tsv").is_file() else None


def main() -> None:
    from bot.triage.render import MAX_COMMENT_ROWS, render_comment
    from tests.bot.corpus_prs import pr_numbers, pr_reports

    found = corpus()
    if found is None:
        print("skipped: the corpus is absent (set TAXONOMIST_CORPUS)")
        return
    numbers = pr_numbers(found)[:: int(os.environ.get("BENCH_COMMENT_STRIDE", "3"))]
    before, after, worst = [], [], (0, 0, 0)
    start = time.perf_counter()
    for number, report in pr_reports(found, numbers, only=CHECKS):
        if not report.files and not report.findings:
            continue
        old = min(MAX_COMMENT_ROWS, sum(len(fr.findings) for fr in report.files)) + len(report.findings)
        new = sum(line.startswith("| `") for line in render_comment(report, "0" * 40).splitlines())
        before.append(old)
        after.append(new)
        worst = max(worst, (old - new, number, old))
    took = time.perf_counter() - start
    print(f"{len(before)} PRs with taxonomy files, checks {'+'.join(CHECKS)} ({took:.0f} s)")
    for name, rows in (("before folding", before), ("after folding", after)):
        p90 = sorted(rows)[int(0.9 * len(rows)) - 1]
        print(f"comment rows {name}: median {statistics.median(rows):g}, 90th percentile {p90}, max {max(rows)} "
              f"(the comment shows at most {MAX_COMMENT_ROWS}), total {sum(rows)}")
    print(f"PRs whose comment got shorter: {sum(a < b for a, b in zip(after, before, strict=True))}")
    print(f"ratio after/before (total rows): {sum(after) / sum(before):.2f}; "
          f"most folded: PR {worst[1]} ({worst[2]} -> {worst[2] - worst[0]} rows)")


if __name__ == "__main__":
    main()
