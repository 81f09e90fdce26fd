"""`taxonomist build generate`: leaves -> documents -> teacher flows (cached per leaf) -> mixing -> build.json.

The teacher is only started when some leaf is not in the cache, so a rebuild with no change makes
no teacher request at all (and does not even load the model).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cache import LeafCache, leaf_key
from pipeline.documents import DocumentFetchError, document_chunks
from pipeline.flows import run_leaf
from pipeline.leaves import Leaf, load_taxonomy
from pipeline.mixing import mix
from pipeline.report import update_report
from pipeline.settings import GenerateSettings
from pipeline.teacher import Teacher, make_teacher


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
    t = settings.teacher
    if t.is_http:
        return f"openai:{t.model or t.endpoint}"
    from pipeline.models import resolve_model_dir
    from pipeline.teacher import folder_identity

    folder = resolve_model_dir(t.endpoint, model_cache)
    return f"local:{folder.name}:{folder_identity(folder)}"


def _progress(items: Sequence[Leaf], enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(items, desc="generate", unit="leaf", disable=not enabled)


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


def generate(taxonomy_dir: Path, build_dir: Path, cache_dir: Path, settings: GenerateSettings, *,
             ref: str | None = None, previous: Sequence[Path] = (), model_cache: Path | None = None,
             teacher: Teacher | None = None, progress: bool = True) -> dict[str, Any]:
    """Run generation and write the data and build.json; returns the report's generation sections."""
    build_dir, cache_dir = Path(build_dir), Path(cache_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    stages = Stages()
    with stages.timed("leaves"):
        taxonomy = load_taxonomy(Path(taxonomy_dir), build_dir / "work", ref=ref,
                                 schema_version=settings.schema_version, heldout=settings.heldout_per_leaf,
                                 seed=settings.seed)
    if teacher is not None:
        lazy = LazyTeacher(settings, lambda: teacher, teacher.identity)
    else:
        lazy = LazyTeacher(settings, lambda: make_teacher(settings.teacher, seed=settings.seed,
                                                          model_cache=model_cache),
                           teacher_identity(settings, model_cache))
    cache = LeafCache(cache_dir)
    tokenizer: Any = None
    used: list[Leaf] = []
    skipped = list(taxonomy.skipped)
    generated: dict[str, list[dict[str, str]]] = {}
    per_leaf: dict[str, dict[str, Any]] = {}
    regenerated: list[str] = []
    reused: list[str] = []
    for leaf in _progress(taxonomy.used, progress):
        key = leaf_key(leaf, lazy.identity, settings)
        entry = cache.get(key)
        if entry is not None:
            reused.append(leaf.path)
            samples, stats = entry["samples"], entry["stats"]
        else:
            chunks: list[str] = []
            if leaf.flow == "knowledge":
                with stages.timed("documents"):
                    if tokenizer is None:
                        from pipeline.models import load_tokenizer

                        tokenizer = load_tokenizer(settings.student, model_cache)
                    try:
                        chunks = document_chunks(leaf.document or {}, cache_dir, tokenizer, settings.chunk_tokens,
                                                 settings.mirrors)
                    except DocumentFetchError as exc:
                        skipped.append({"leaf": leaf.path, "findings": [], "reason": f"documents: {exc}"})
                        continue
            with stages.timed("teacher"):
                samples, leaf_stats = run_leaf(leaf, lazy.get(), settings, chunks)
            stats = leaf_stats.to_dict()
            cache.put(key, leaf.path, samples, stats)
            regenerated.append(leaf.path)
        used.append(leaf)
        generated[leaf.path] = samples
        per_leaf[leaf.path] = {**stats, "seed": len(leaf.seeds), "heldout": len(leaf.heldout), "flow": leaf.flow}
    with stages.timed("mix"):
        recipe = mix(build_dir, used, generated, replay_phase1=settings.replay_phase1,
                     replay_previous=settings.replay_previous, previous=previous, seed=settings.seed)
    sections = {
        "taxonomy": {"path": str(Path(taxonomy_dir).resolve()), "ref": ref, "commit": taxonomy.commit,
                     "prs": taxonomy.prs},
        "leaves": {"used": [leaf.path for leaf in used], "skipped": sorted(skipped, key=lambda s: s["leaf"]),
                   "regenerated": regenerated, "reused": reused,
                   "hashes": {leaf.path: leaf.content_hash for leaf in used}},
        "teacher": lazy.counters(),
        "samples": {"per_leaf": per_leaf, "per_phase": _phase_totals(used, per_leaf),
                    "rows": {"phase1": recipe["phase1"]["rows"], "phase2": recipe["phase2"]["rows"],
                             "heldout": recipe["heldout"]["rows"]}},
        "stages": stages.seconds,
    }
    update_report(build_dir, sections)
    return sections
