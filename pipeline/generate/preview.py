"""A preview of the training data a pull request's leaves would give, made the way the weekly build makes it.

Same leaf reading (`pipeline.leaves.make_leaf`, the build's held-out split and seed), same flows
(`pipeline.generate.flows.run_leaf`: freeform, grounded and knowledge, knowledge leaves' documents fetched and
chunked as the build does), same cache (`pipeline.generate.cache.LeafCache` under `leaf_key`, in the build's
cache folder): once the PR merges, the weekly build finds these samples in its cache and makes no
teacher call for the leaf. Per leaf: the samples kept and the candidates dropped, by reason.

A PR's documents are fetched over https only, from public addresses, within the fetch limits
(`pipeline.generate.remote`), whatever schemes the build's settings allow; a leaf whose documents
fail says why in words a PR may be shown (`DocumentFetchError.public`: no path or host of the worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from checks.paths import leaf_of, taxonomy_path
from checks.sources import Source
from pipeline.generate.cache import LeafCache, leaf_key
from pipeline.generate.flows import run_leaf
from pipeline.generate.remote import FetchLimits
from pipeline.generate.teacher import Teacher
from pipeline.leaves import make_leaf
from pipeline.settings import GenerateSettings


def _kind(path: str) -> str:
    return "knowledge" if path.startswith("knowledge/") else "skill"


PREVIEW_SCHEMES = ("https",)


def preview(sources: Sequence[Source], settings: GenerateSettings, cache_dir: Path, *,
            teacher: Teacher | None = None, model_cache: Path | None = None,
            limits: FetchLimits = FetchLimits()) -> dict[str, Any]:
    """`{"teacher": identity, "leaves": [{leaf, flow, key, cached, kept: [samples], dropped: {reason: n}}]}`.

    The sources must pass the structural checks (the caller checks); `teacher` defaults to the build's."""
    from pipeline.generate.documents import DocumentFetchError, document_chunks
    from pipeline.generate.stage import teacher_identity
    from pipeline.generate.teacher import make_teacher
    from pipeline.models import load_tokenizer

    identity = teacher.identity if teacher is not None else teacher_identity(settings, model_cache)
    cache = LeafCache(cache_dir)
    out = []
    for source in sources:
        tax_path = taxonomy_path(source.source)
        path = leaf_of(tax_path) if tax_path else source.source
        leaf = make_leaf(path, _kind(path), yaml.safe_load(source.read()), settings.heldout_per_leaf, settings.seed)
        key = leaf_key(leaf, identity, settings)
        entry = cache.get(key)
        cached = entry is not None
        if entry is None:
            chunks: list[str] = []
            if leaf.flow == "knowledge":
                try:
                    tokenizer = load_tokenizer(settings.student, model_cache)
                    chunks = document_chunks(leaf.document or {}, cache_dir, tokenizer, settings.chunk_tokens,
                                             settings.mirrors, PREVIEW_SCHEMES, limits).chunks
                except DocumentFetchError as exc:
                    out.append({"leaf": path, "flow": leaf.flow, "key": key, "cached": False, "kept": [],
                                "dropped": {}, "error": f"documents: {exc.public}"})
                    continue
            teacher = teacher or make_teacher(settings.teacher, seed=settings.seed, model_cache=model_cache)
            samples, stats = run_leaf(leaf, teacher, settings, chunks)
            cache.put(key, path, samples, stats.to_dict())
            entry = {"samples": samples, "stats": stats.to_dict()}
        stats = entry["stats"]
        dropped = {f"{kind}: {reason}": n for kind in ("failed", "malformed", "filtered")
                   for reason, n in stats.get(kind, {}).items()}
        out.append({"leaf": path, "flow": leaf.flow, "key": key, "cached": cached, "kept": entry["samples"],
                    "dropped": dropped})
    return {"teacher": identity, "leaves": out}
