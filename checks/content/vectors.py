"""Embeddings of a file's texts, remembered per process: `duplicate` and `topic` embed the same
examples, and a re-check of an unchanged file embeds nothing."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from checks.embeddings import embed

CACHE_SIZE = 8192
_lock = threading.Lock()
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def embed_cached(texts: Sequence[str]) -> np.ndarray:
    """Like `embed`, embedding only the texts not seen recently (least recently used are dropped)."""
    with _lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
    fresh = embed(missing) if missing else None
    with _lock:
        for text, row in zip(missing, fresh if fresh is not None else [], strict=True):
            _cache[text] = row
        rows = []
        for text in texts:
            _cache.move_to_end(text)
            rows.append(_cache[text])
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return np.stack(rows) if rows else embed([])


def clear_cache() -> None:
    """Forget every remembered embedding (benchmarks measure the cold path with it)."""
    with _lock:
        _cache.clear()
