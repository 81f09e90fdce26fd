"""Content checks: quality on the labelled sets (PII and hate/abuse/profanity: the held-out thirds
printed apart), speed against the embedding model alone, memory.

Baselines measured in the same run: `checks.embeddings.embed` on the same texts (for the warm
check of each sampled contribution, and for the cold index build's throughput). Needs the corpus
(TAXONOMIST_CORPUS, default ../shared/corpus) for the index and the duplicate set.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "content" / "data"
CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", REPO.parent / "shared" / "corpus"))
THROUGHPUT_SAMPLE = 2000  # texts embedded by the model alone, drawn from the index's own texts
CONTRIBUTIONS = 41  # PR files timed one by one for the warm check of a contribution
REPEATS = 3


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def corpus_sources() -> list[Any]:
    """Every qna.yaml of taxonomy-2024-08 and of every PR in the corpus, as sources."""
    from checks.sources import DiskSource

    files = sorted((CORPUS / "taxonomy-2024-08").rglob("qna.yaml"))
    files += sorted(p for p in (CORPUS / "taxonomy-prs").rglob("qna.y*ml"))
    return [DiskSource(str(f)) for f in files]


def origin_of(source: Any) -> str:
    parts = Path(source.source).parts
    return f"pr/{parts[parts.index('taxonomy-prs') + 1]}" if "taxonomy-prs" in parts else "base"


def pii_quality() -> None:
    from checks.config import PiiConfig
    from checks.content.pii import find_pii
    from checks.findings import Severity
    from tests.content.conftest import labelled, pii_outcome

    cfg = PiiConfig()
    cases = labelled("pii_cases.jsonl")
    tp = fn = fp_cases = 0
    found = find_pii([c["text"] for c in cases], cfg.block, cfg.warn)
    for case, hits in zip(cases, found, strict=True):
        errors = {hit.entity for sev, hit, _ in hits if sev is Severity.ERROR}
        if case["pii"]:
            tp, fn = (tp + 1, fn) if case["entity"] in errors else (tp, fn + 1)
        elif errors:
            fp_cases += 1
    clean = sum(1 for c in cases if not c["pii"])
    print(f"pii, first set: {tp + fn} PII cases, {clean} clean look-alikes; recall {tp / (tp + fn):.3f}, "
          f"precision {tp / max(1, tp + fp_cases):.3f}, clean cases raising an error {fp_cases / clean:.1%} "
          "(targets: recall >= 0.95, <= 2%)")
    # The fresh set: two thirds used while tuning, one third held out (a seeded split done once, before tuning).
    for name, part in (("pii_fresh.jsonl", "tuning two thirds"), ("pii_holdout.jsonl", "HELD-OUT third")):
        cases = labelled(name)
        missed, flagged, warned = pii_outcome(cases)
        positives = [c for c in cases if c["pii"]]
        clean_cases = [c for c in cases if not c["pii"]]
        categories = len({c["category"] for c in positives})
        print(f"pii, fresh set, {part} ({name}): {len(positives)} PII cases in {categories} categories, "
              f"{len(clean_cases)} look-alikes; recall {1 - len(missed) / len(positives):.3f}, look-alikes raising "
              f"an error {len(flagged) / len(clean_cases):.1%}, name warnings on look-alikes {len(warned)} "
              "(targets: recall >= 0.97, <= 1%)")
        for case in missed + flagged:
            print(f"  wrong: {case['category']}: {case['text']!r}")


def independent_quality() -> None:
    """Issue 25's sets written apart, by an author who never saw the detectors: the tuning part, then the
    SEALED part, which was not opened until the tuning was committed and is measured here only."""
    from tests.content.conftest import abuse_outcome, labelled, pii_outcome

    for name, part in (("pii_independent.jsonl", "tuning part"), ("pii_independent_sealed.jsonl", "SEALED part")):
        cases = labelled(name)
        missed, flagged, warned = pii_outcome(cases)
        positives, clean = sum(c["pii"] for c in cases), sum(not c["pii"] for c in cases)
        print(f"pii, written apart, {part} ({name}): {positives} PII cases, {clean} look-alikes; recall "
              f"{1 - len(missed) / positives:.3f}, look-alikes raising an error {len(flagged) / clean:.1%}, "
              f"name warnings on look-alikes {len(warned)} (targets: recall >= 0.97, <= 1%)")
        for case in missed + flagged:
            print(f"  wrong ({'missed' if case['pii'] else 'flagged'}): {case['category']}: {case['text']!r}")
    for name, part in (("abuse_independent.jsonl", "tuning part"), ("abuse_independent_sealed.jsonl", "SEALED part")):
        cases = labelled(name)
        tp, fn, fp, wrong = abuse_outcome(cases)
        print(f"hate/abuse/profanity, written apart, {part} ({name}): {tp + fn} hostile, {len(cases) - tp - fn} "
              f"clean; recall {tp / (tp + fn):.3f}, precision {tp / max(1, tp + fp):.3f} ({fp} clean flagged) "
              "(targets: recall >= 0.90, precision >= 0.95)")
        for case in wrong:
            print(f"  wrong ({'missed' if case['abusive'] else 'flagged'}): {case.get('kind')}: {case['text']!r}")


def abuse_quality() -> None:
    """The `topic` check's hate/abuse/profanity findings on the labelled set, tuning part and held-out third."""
    from tests.content.conftest import abuse_outcome, labelled

    for name, part in (("abuse_tune.jsonl", "tuning two thirds"), ("abuse_holdout.jsonl", "HELD-OUT third")):
        cases = labelled(name)
        tp, fn, fp, wrong = abuse_outcome(cases)
        print(f"hate/abuse/profanity, {part} ({name}): {tp + fn} hostile, {len(cases) - tp - fn} clean; recall "
              f"{tp / (tp + fn):.3f}, precision {tp / max(1, tp + fp):.3f} ({fp} clean sentences flagged)")
        for case in wrong:
            print(f"  wrong ({'missed' if case['abusive'] else 'flagged'}): {case['text']!r}")


def duplicate_quality(base: Any) -> None:
    """Example level: 100 paraphrases must be found; examples of 60 non-duplicate leaves must not."""
    from checks.config import ChecksConfig
    from checks.content.duplicate import check_duplicate
    from checks.content.texts import examples
    from checks.context import CheckContext
    from checks.document import Document
    from checks.qna import QnaFile
    from checks.sources import MemorySource
    from tests.content.conftest import skill_yaml

    config = ChecksConfig()
    ctx = CheckContext(config, index=base)

    def findings(pairs: list[tuple[str, str]]) -> list[Any]:
        text = skill_yaml(pairs)
        qna = QnaFile(MemorySource("compositional_skills/bench/new_leaf/qna.yaml", text.encode()),
                      Document.parse(text), 3)
        return list(check_duplicate(qna, ctx))

    root = CORPUS / "taxonomy-2024-08"
    paraphrases = json.loads((DATA / "paraphrases.json").read_text(encoding="utf-8"))
    found = 0
    for case in paraphrases:
        original = {e.at[1]: e for e in examples(Document.parse((root / case["leaf"] / "qna.yaml").read_text()).data)}
        hits = [f for f in findings([(case["question"], original[case["example"]].answer)])
                if f"near-duplicate of {case['leaf']} " in f.message]
        found += bool(hits)
    leaves = json.loads((DATA / "leaves.json").read_text(encoding="utf-8"))
    false_examples = same_task_found = same_topic_flagged = 0
    negatives = 0
    for kind in ("same_task", "same_topic"):
        for case in leaves[kind]:
            out = findings([tuple(p) for p in case["examples"]])
            negatives += len(case["examples"])
            false_examples += sum(1 for f in out if "near-duplicate" in f.message)
            leaf_hit = any("teaches the task" in f.message for f in out)
            if kind == "same_task":
                same_task_found += leaf_hit and any(case["leaf"] in f.message for f in out)
            else:
                same_topic_flagged += leaf_hit
    recall = found / len(paraphrases)
    precision = found / max(1, found + false_examples)
    d = config.duplicates
    print(f"duplicate (warn_at {d.warn_at}, block_at {d.block_at}): {len(paraphrases)} paraphrases, recall "
          f"{recall:.3f}; {negatives} examples of non-duplicate leaves, {false_examples} flagged; precision "
          f"{precision:.3f} (targets: recall >= 0.9 at precision >= 0.95)")
    print(f"same task (same_task_at {d.same_task_at}): {same_task_found}/{len(leaves['same_task'])} same-task leaves "
          f"name the right leaf; {same_topic_flagged}/{len(leaves['same_topic'])} same-topic leaves warned")


def speed_and_memory() -> Any:
    import psutil

    from checks.content import vectors
    from checks.embeddings import embed
    from checks.index import EmbeddingIndex
    from checks.runner import Checker
    from checks.sources import MemorySource

    sources = corpus_sources()
    embed(["warm up"])
    index = EmbeddingIndex()
    texts = sorted({e.text for s in sources for e in readable_examples(s)})
    sample = random.Random(7).sample(texts, min(THROUGHPUT_SAMPLE, len(texts)))
    # The machine is shared: the model alone runs before and after the build, and the mean is the baseline.
    before_s, _ = timed(lambda: embed(sample))
    build_s, _ = timed(lambda: index.update(sources, origin_of=origin_of))
    after_s, _ = timed(lambda: embed(sample))
    index_rate, model_rate = index.embedded_texts() / build_s, 2 * len(sample) / (before_s + after_s)
    print(f"cold index build: {len(index)} leaves, {index.embedded_texts()} texts in {build_s:.1f} s = "
          f"{index_rate:.0f} texts/s; embedding model alone on {len(sample)} of the same texts: {model_rate:.0f} "
          f"texts/s (before {len(sample) / before_s:.0f}, after {len(sample) / after_s:.0f}); ratio "
          f"{index_rate / model_rate:.2f} (target >= 0.80)")

    leaf = "compositional_skills/linguistics/rhyming_words"
    original = (CORPUS / "taxonomy-2024-08" / leaf / "qna.yaml").read_text(encoding="utf-8")
    changed = MemorySource(f"{leaf}/qna.yaml", original.replace("cool", "school", 1).encode())
    rebuild_s, _ = timed(lambda: index.update([changed], origin="base"))
    print(f"incremental rebuild after one leaf changed: {rebuild_s * 1000:.0f} ms (target < 1 s)")
    index.update([MemorySource(f"{leaf}/qna.yaml", original.encode())], origin="base")

    contributions = typical_contributions(sources)
    checker = Checker(only=["content"], index=index)
    check_ms, model_ms = [], []
    for contribution in contributions:
        source = MemorySource(contribution.source, contribution.read())
        own_texts = [e.text for e in readable_examples(source)]
        checker.check_file(source)  # models loaded, code paths warm
        check_times, model_times = [], []
        for _ in range(REPEATS):
            vectors.clear_cache()  # a new push: its texts were never embedded in this process
            check_times.append(timed(partial(checker.check_file, source))[0])
            model_times.append(timed(partial(embed, own_texts))[0])
        check_ms.append(statistics.median(check_times) * 1000)
        model_ms.append(statistics.median(model_times) * 1000)
    order = sorted(range(len(check_ms)), key=check_ms.__getitem__)
    for name, at in (("median", order[len(order) // 2]), ("90th percentile", order[int(len(order) * 0.9)]),
                     ("slowest", order[-1])):
        print(f"content checks, warm, {name} of {len(order)} PR contributions with 5 to 15 examples "
              f"({contributions[at].source}): {check_ms[at]:.0f} ms; embedding model alone on its texts: "
              f"{model_ms[at]:.0f} ms; ratio {check_ms[at] / model_ms[at]:.2f} (target: <= 300 ms, median ratio "
              "<= 1.5)")
    rss = psutil.Process().memory_info().rss / 2**20
    print(f"resident memory with every content model loaded and the index in memory: {rss:.0f} MiB "
          "(target < 1536 MiB)")
    return index


def readable_examples(source: Any) -> list[Any]:
    """The examples of a corpus file; none for a file that does not parse (the index skips it too)."""
    from checks.content.texts import examples
    from checks.document import Document, DocumentError, decode

    try:
        return examples(Document.parse(decode(source.read())).data)
    except DocumentError:
        return []


def typical_contributions(sources: list[Any]) -> list[Any]:
    """A seeded sample of PR files holding one leaf of 5 to 15 examples (what a contribution looks like)."""
    fitting = [s for s in sources if origin_of(s) != "base" and 5 <= len(readable_examples(s)) <= 15]
    if not fitting:
        raise RuntimeError("no PR file with 5 to 15 examples in the corpus")
    return random.Random(7).sample(fitting, min(CONTRIBUTIONS, len(fitting)))


def main() -> None:
    import torch

    # One thread: on a shared 2-core machine a second torch thread waits on the other engineers' work
    # (5 texts: 32 ms with one thread, 98 ms with two, measured side by side under load).
    torch.set_num_threads(1)
    sys.path.insert(0, str(REPO))
    if not (CORPUS / "README.md").is_file():
        print(f"content benchmark skipped: no corpus at {CORPUS} (set TAXONOMIST_CORPUS)")
        return
    pii_quality()
    abuse_quality()
    independent_quality()
    index = speed_and_memory()
    base = index.excluding("__none__")
    for origin, _ in index.leaves():
        if origin != "base":
            base.remove_origin(origin)
    duplicate_quality(base)


if __name__ == "__main__":
    main()
