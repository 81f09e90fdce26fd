"""`taxonomist build generate`: leaves -> documents -> teacher flows (cached per leaf) -> mixing -> build.json.

The teacher is only started when some leaf is not in the cache, so a rebuild with no change makes
no teacher request at all (and does not even load the model).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.generate.cache import LeafCache, leaf_key
from pipeline.generate.documents import DocumentFetchError, document_chunks
from pipeline.generate.flows import run_leaf
from pipeline.generate.mixing import mix
from pipeline.generate.teacher import Teacher, make_teacher
from pipeline.leaves import Leaf, load_taxonomy
from pipeline.progress import time_left
from pipeline.publish.report import read_report, update_report
from pipeline.settings import GenerateSettings


@dataclass(slots=True)
class Stages:
    """Wall time per stage, in seconds."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


class LazyTeacher:
    """Builds the teacher on first use; its identity comes without loading it (for cache keys)."""

    def __init__(self, settings: GenerateSettings, factory: Callable[[], Teacher], identity: str) -> None:
        self.settings = settings
        self.factory = factory
        self.identity = identity
        self.teacher: Teacher | None = None

    def get(self) -> Teacher:
        if self.teacher is None:
            self.teacher = self.factory()
        return self.teacher

    def counters(self) -> dict[str, Any]:
        counts = self.teacher.counters.to_dict() if self.teacher else {"requests": 0, "failed": 0, "retried": 0}
        errors = self.teacher.errors if self.teacher else []
        return {"identity": self.identity, **counts, "concurrency": self.settings.teacher.concurrency,
                "errors": errors}


def teacher_identity(settings: GenerateSettings, model_cache: Path | None) -> str:
    """What the cache keys name: the server's model, or the local model folder's content."""
    from pipeline.generate.teacher import http_identity, local_identity

    if settings.teacher.is_http:
        return http_identity(settings.teacher)
    from pipeline.models import resolve_model_dir

    return local_identity(resolve_model_dir(settings.teacher.endpoint, model_cache))


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="generate", unit="leaf", disable=not enabled)


SHOWN_PER_LEAF = 3  # kept samples per leaf in build.json, for an operator to read before training
SHOWN_CHARS = 300


def _shown(sample: dict[str, str]) -> dict[str, str]:
    """A kept sample as the report shows it: question and answer, cut to `SHOWN_CHARS`."""
    return {k: (v if len(v) <= SHOWN_CHARS else v[:SHOWN_CHARS] + "…") for k, v in sample.items() if k != "context"}


def _phase_totals(leaves: Sequence[Leaf], per_leaf: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for phase, flows in (("phase1", {"knowledge"}), ("phase2", {"freeform", "grounded"})):
        totals: dict[str, Any] = {"leaves": 0, "seed": 0, "candidates": 0, "kept": 0}
        dropped: dict[str, Counter[str]] = {"failed": Counter(), "malformed": Counter(), "filtered": Counter()}
        for leaf in leaves:
            stats = per_leaf.get(leaf.path)
            if leaf.flow not in flows or stats is None:
                continue
            totals["leaves"] += 1
            for key in ("seed", "candidates", "kept"):
                totals[key] += stats[key]
            for kind, counter in dropped.items():
                counter.update(stats[kind])
        out[phase] = {**totals, **{k: dict(v) for k, v in dropped.items()}}
    return out


def _fetch_documents(leaves: Sequence[Leaf], cache_dir: Path, settings: GenerateSettings, model_cache: Path | None
                     ) -> tuple[dict[str, list[str]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Chunks for the knowledge leaves to generate, what each read and left out; a leaf whose documents
    fail is skipped, with why."""
    knowledge = [leaf for leaf in leaves if leaf.flow == "knowledge"]
    if not knowledge:
        return {}, {}, []
    from pipeline.models import load_tokenizer

    tokenizer = load_tokenizer(settings.student, model_cache)
    chunks: dict[str, list[str]] = {}
    read: dict[str, dict[str, Any]] = {}
    failed: list[dict[str, Any]] = []
    for leaf in knowledge:
        try:
            documents = document_chunks(leaf.document or {}, cache_dir, tokenizer, settings.chunk_tokens,
                                        settings.mirrors, settings.document_schemes)
        except DocumentFetchError as exc:
            failed.append({"leaf": leaf.path, "findings": [], "reason": f"documents: {exc}"})
            continue
        chunks[leaf.path], read[leaf.path] = documents.chunks, documents.report()
    return chunks, read, failed


def _run_leaves(todo: Sequence[tuple[Leaf, str]], lazy: LazyTeacher, settings: GenerateSettings, cache: LeafCache,
                chunks: dict[str, list[str]], progress: bool) -> dict[str, tuple[list[dict[str, str]], dict[str, Any]]]:
    """Generate leaves side by side (the teacher bounds the requests in flight); cache each when done."""
    if not todo:
        return {}
    teacher = lazy.get()

    def one(leaf: Leaf, key: str) -> tuple[str, list[dict[str, str]], dict[str, Any]]:
        samples, stats = run_leaf(leaf, teacher, settings, chunks.get(leaf.path, []))
        cache.put(key, leaf.path, samples, stats.to_dict())
        return leaf.path, samples, stats.to_dict()

    out: dict[str, tuple[list[dict[str, str]], dict[str, Any]]] = {}
    started = time.perf_counter()
    with _progress(len(todo), progress) as bar, ThreadPoolExecutor(max_workers=teacher.concurrency) as pool:
        futures = [pool.submit(one, leaf, key) for leaf, key in todo]
        try:
            for future in as_completed(futures):
                path, samples, stats = future.result()
                out[path] = (samples, stats)
                bar.update(1)
                if not progress:  # a line per leaf instead of the bar (the bar shows its own estimate)
                    left = time_left(len(out), len(todo), time.perf_counter() - started)
                    print(f"generate: {len(out)}/{len(todo)} leaves" + (f", {left}" if left else ""),
                          file=sys.stderr, flush=True)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return out


def generate(taxonomy_dir: Path, build_dir: Path, cache_dir: Path, settings: GenerateSettings, *,
             ref: str | None = None, previous: Sequence[Path] = (), model_cache: Path | None = None,
             teacher: Teacher | None = None, progress: bool = True) -> dict[str, Any]:
    """Run generation and write the data and build.json; returns the report's generation sections."""
    build_dir, cache_dir = Path(build_dir), Path(cache_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    stages = Stages()
    with stages.timed("leaves"), tempfile.TemporaryDirectory(prefix="taxonomist-ref-") as work:
        taxonomy = load_taxonomy(Path(taxonomy_dir), Path(work), ref=ref, schema_version=settings.schema_version,
                                 heldout=settings.heldout_per_leaf, seed=settings.seed,
                                 heldout_full_from=settings.heldout_full_from)
    if teacher is not None:
        lazy = LazyTeacher(settings, lambda: teacher, teacher.identity)
    else:
        lazy = LazyTeacher(settings, lambda: make_teacher(settings.teacher, seed=settings.seed,
                                                          model_cache=model_cache),
                           teacher_identity(settings, model_cache))
    cache = LeafCache(cache_dir)
    skipped = list(taxonomy.skipped)
    done: dict[str, tuple[list[dict[str, str]], dict[str, Any]]] = {}
    todo: list[tuple[Leaf, str]] = []
    for leaf in taxonomy.used:
        key = leaf_key(leaf, lazy.identity, settings)
        entry = cache.get(key)
        if entry is not None:
            done[leaf.path] = (entry["samples"], entry["stats"])
        else:
            todo.append((leaf, key))
    reused = [leaf.path for leaf in taxonomy.used if leaf.path in done]
    with stages.timed("documents"):
        chunks, documents, failed = _fetch_documents([leaf for leaf, _ in todo], cache_dir, settings, model_cache)
    skipped += failed
    todo = [(leaf, key) for leaf, key in todo if leaf.path in chunks or leaf.flow != "knowledge"]
    with stages.timed("teacher"):
        done.update(_run_leaves(todo, lazy, settings, cache, chunks, progress))
    used = [leaf for leaf in taxonomy.used if leaf.path in done]
    regenerated = [leaf.path for leaf, _ in todo]
    generated = {path: samples for path, (samples, _) in done.items()}
    per_leaf = {leaf.path: {**done[leaf.path][1], "seed": len(leaf.seeds), "heldout": len(leaf.heldout),
                            "flow": leaf.flow} for leaf in used}
    with stages.timed("mix"):
        recipe = mix(build_dir, used, generated, replay_phase1=settings.replay_phase1,
                     replay_previous=settings.replay_previous, previous=previous, seed=settings.seed,
                     thin_heldout=settings.thin_heldout)
    zero_kept = [leaf.path for leaf in used if not generated[leaf.path]]
    sections = {
        "taxonomy": {"path": str(Path(taxonomy_dir).resolve()), "source": taxonomy.source, "ref": taxonomy.ref,
                     "commit": taxonomy.commit, "prs": taxonomy.prs, "commits": taxonomy.commits},
        "leaves": {"used": [leaf.path for leaf in used], "skipped": sorted(skipped, key=lambda s: s["leaf"]),
                   "thin": taxonomy.thin_of(used), "zero_kept": zero_kept, "documents": documents,
                   "regenerated": regenerated, "reused": reused,
                   "hashes": {leaf.path: leaf.content_hash for leaf in used}},
        "teacher": lazy.counters(),
        "samples": {"per_leaf": per_leaf, "per_phase": _phase_totals(used, per_leaf),
                    "shown": {leaf.path: [_shown(s) for s in generated[leaf.path][:SHOWN_PER_LEAF]] for leaf in used},
                    "rows": {"phase1": recipe["phase1"]["rows"], "phase2": recipe["phase2"]["rows"],
                             "heldout": recipe["heldout"]["rows"]}},
        "stages": {**read_report(build_dir).get("stages", {}), **stages.seconds},  # other stages' times kept
    }
    update_report(build_dir, sections)
    return sections
