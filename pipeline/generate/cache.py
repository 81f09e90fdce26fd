"""The per-leaf generation cache: a leaf's samples stored under a key of everything that made them.

The key covers the leaf's content (its documents' repository, commit and patterns are in it), the
teacher's identity, the prompts and the generation settings. Each leaf is written as soon as it is
done, atomically, so an interrupted run resumes from the leaves it had finished.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pipeline.files import write_json_atomic
from pipeline.generate.prompts import PROMPTS_VERSION
from pipeline.leaves import Leaf
from pipeline.settings import GenerateSettings

CACHE_FORMAT = 3  # 2: the leaf's content hash is of its parsed content; 3: documents chunked by headings


def leaf_key(leaf: Leaf, teacher_identity: str, settings: GenerateSettings) -> str:
    material = {
        "format": CACHE_FORMAT,
        "leaf": leaf.path,
        "content": leaf.content_hash,
        "document": leaf.document,
        "teacher": teacher_identity,
        "prompts": PROMPTS_VERSION,
        "settings": settings.cache_fields(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


class LeafCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "leaves"

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached entry, or None when absent or unreadable (then the leaf is generated again)."""
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) and entry.get("key") == key else None

    def put(self, key: str, leaf: str, samples: list[dict[str, str]], stats: dict[str, Any]) -> None:
        write_json_atomic(self._path(key), {"key": key, "leaf": leaf, "samples": samples, "stats": stats})
