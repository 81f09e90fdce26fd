"""An embedding index of taxonomy leaves, for the `duplicate` check.

How the bot uses it (nothing else here is public):

    base = EmbeddingIndex.load(path) if path.exists() else EmbeddingIndex()
    base.update(sources_of_the_base_branch, origin="base")   # embeds only texts never seen before
    base.remove_leaf("compositional_skills/writing/haiku")   # a leaf deleted on the base branch
    base.save(path)

    open_prs.update(sources_of_pr_123, origin="pr/123")      # replaces that PR's leaves
    open_prs.remove_origin("pr/123")                         # when PR 123 is closed or merged
    Checker(config, index=base.merged(open_prs.excluding("pr/123")))

A leaf is identified by its folder path (`compositional_skills/.../haiku`) and an `origin`: "base"
for the merged taxonomy (`checks.findings.MERGED`), any other label ("pr/123") for an open PR.
Embeddings are keyed by the sha256 of the embedded text, so rebuilding after one leaf changed embeds
only the new texts. The file format is a numpy `.npz` with no
pickled objects (loaded with `allow_pickle=False`): `hashes` (unicode), `vectors` (float32) and
`meta` (UTF-8 JSON bytes: the leaves, their examples and the model's weights hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from checks.content.texts import Example, examples
from checks.document import Document, DocumentError, decode, format_yaml_path
from checks.embeddings import DIMENSIONS, WEIGHTS_SHA256, comparable, embed
from checks.findings import MERGED
from checks.paths import leaf_of, taxonomy_path
from checks.sources import Source, SourceError

FORMAT = 1


class IndexFileError(Exception):
    """The index file cannot be used; the message says which file and why."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def leaf_name(source: Source) -> str:
    """The leaf a file belongs to: its taxonomy folder, or the path as given outside a taxonomy."""
    tax = taxonomy_path(source.path)
    return leaf_of(tax) if tax is not None else source.source


@dataclass(frozen=True, slots=True)
class IndexedExample:
    yaml_path: str
    text: str
    hash: str
    context: str = ""  # `Example.context_key` of a grounded example


@dataclass(frozen=True, slots=True)
class Match:
    """The closest indexed example to a query, and the leaf holding it."""

    score: float
    leaf: str
    origin: str
    example: IndexedExample


@dataclass(frozen=True, slots=True)
class LeafMatch:
    score: float
    leaf: str
    origin: str


@dataclass(frozen=True, slots=True)
class _Tables:
    rows: np.ndarray  # one embedding per indexed example
    owners: list[tuple[str, str, IndexedExample]]  # (origin, leaf, example) of each row, sorted
    merged_rows: np.ndarray  # which rows belong to merged leaves
    centroids: np.ndarray  # one per leaf
    keys: list[tuple[str, str]]  # (origin, leaf) of each centroid, sorted
    merged_keys: np.ndarray


class EmbeddingIndex:
    """Leaves and their examples' embeddings; query with `nearest` and `nearest_leaves`."""

    def __init__(self) -> None:
        self._vectors: dict[str, np.ndarray] = {}
        self._leaves: dict[tuple[str, str], tuple[IndexedExample, ...]] = {}
        self._matrix: _Tables | None = None

    # building -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._leaves)

    def embedded_texts(self) -> int:
        """How many distinct texts have a vector (grows only when something new is embedded)."""
        return len(self._vectors)

    def texts(self) -> list[str]:
        """Every distinct indexed text."""
        return list({i.hash: i.text for items in self._leaves.values() for i in items}.values())

    def leaves(self) -> list[tuple[str, str]]:
        """(origin, leaf) of every indexed leaf, sorted."""
        return sorted(self._leaves)

    def update(self, sources: Iterable[Source], origin: str = MERGED,
               origin_of: Callable[[Source], str] | None = None) -> list[str]:
        """Index each file under its leaf, replacing what that leaf held; returns unreadable files.

        `origin_of` labels each source itself (one call for the base branch and every open PR).
        Only texts whose hash is new are embedded, all in one batch.
        """
        problems: list[str] = []
        parsed: dict[tuple[str, str], list[Example]] = {}
        for source in sources:
            try:
                data = Document.parse(decode(source.read())).data
            except (SourceError, OSError, DocumentError) as exc:
                problems.append(f"{source.source}: {getattr(exc, 'message', exc)}")
                continue
            parsed[(origin_of(source) if origin_of else origin, leaf_name(source))] = examples(data)
        for (leaf_origin, leaf), found in parsed.items():
            self.add_leaf(leaf, found, leaf_origin, embed_now=False)
        self.embed_missing()
        return problems

    def add_leaf(self, leaf: str, found: Sequence[Example], origin: str = MERGED, *, embed_now: bool = True) -> None:
        """Index (or re-index) one leaf from its examples."""
        self._leaves[(origin, leaf)] = tuple(
            IndexedExample(format_yaml_path(e.at), e.text, text_hash(e.text), e.context_key) for e in found)
        self._matrix = None
        if embed_now:
            self.embed_missing()

    def remove_leaf(self, leaf: str, origin: str | None = None) -> None:
        """Forget a leaf (under one origin, or under all of them)."""
        for key in [k for k in self._leaves if k[1] == leaf and origin in (None, k[0])]:
            del self._leaves[key]
        self._matrix = None

    def remove_origin(self, origin: str) -> None:
        """Forget every leaf of one origin (a closed pull request)."""
        for key in [k for k in self._leaves if k[0] == origin]:
            del self._leaves[key]
        self._matrix = None

    def excluding(self, origin: str) -> EmbeddingIndex:
        """A copy without one origin's leaves: a PR compared with the other open PRs, not itself."""
        out = self._copy()
        out.remove_origin(origin)
        return out

    def merged(self, other: EmbeddingIndex) -> EmbeddingIndex:
        """The union of two indexes (base and open PRs); `other` wins where both hold a leaf."""
        out = self._copy()
        out._vectors.update(other._vectors)
        out._leaves.update(other._leaves)
        return out

    def _copy(self) -> EmbeddingIndex:
        out = EmbeddingIndex()
        out._vectors = dict(self._vectors)
        out._leaves = dict(self._leaves)
        return out

    def embed_missing(self) -> int:
        """Embed, in one batch, every indexed text with no vector yet (after `add_leaf(embed_now=False)`)."""
        todo: dict[str, str] = {}
        for items in self._leaves.values():
            for item in items:
                if item.hash not in self._vectors:
                    todo[item.hash] = item.text
        if todo:
            for h, vector in zip(todo, embed(list(todo.values())), strict=True):
                self._vectors[h] = vector
        return len(todo)

    # querying -------------------------------------------------------------------------------
    def _tables(self) -> _Tables:
        """Example matrix with owners, and leaf centroid matrix with keys (cached until a change)."""
        if self._matrix is None:
            owners = [(origin, leaf, item) for (origin, leaf), items in sorted(self._leaves.items())
                      for item in items]
            rows = np.stack([self._vectors[o[2].hash] for o in owners]) if owners \
                else np.zeros((0, DIMENSIONS), np.float32)
            keys = [k for k in sorted(self._leaves) if self._leaves[k]]
            cents = np.stack([centroid(np.stack([self._vectors[i.hash] for i in self._leaves[k]])) for k in keys]) \
                if keys else np.zeros((0, DIMENSIONS), np.float32)
            self._matrix = _Tables(rows, owners, np.array([o[0] == MERGED for o in owners], dtype=bool),
                                   cents, keys, np.array([k[0] == MERGED for k in keys], dtype=bool))
        return self._matrix

    def nearest(self, vectors: np.ndarray, exclude_leaf: str | None = None) -> list[tuple[Match, ...]]:
        """For each query row, the most similar indexed example outside `exclude_leaf`: the best merged
        one and the best of the open PRs, apart (so a merged leaf that ties never hides an open PR)."""
        tables = self._tables()
        if not len(tables.rows) or not len(vectors):
            return [()] * len(vectors)
        scores = comparable(vectors @ tables.rows.T)
        if exclude_leaf is not None:
            scores[:, [i for i, o in enumerate(tables.owners) if o[1] == exclude_leaf]] = -np.inf
        out: list[tuple[Match, ...]] = [() for _ in range(len(vectors))]
        for kind in (tables.merged_rows, ~tables.merged_rows):
            if not kind.any():
                continue
            within = np.where(kind, scores, -np.inf)
            for q, i in enumerate(within.argmax(axis=1)):  # the first of equal scores: the sorted (origin, leaf)
                score = float(within[q, i])
                if np.isfinite(score):
                    origin, leaf, item = tables.owners[i]
                    out[q] += (Match(score, leaf, origin, item),)
        return out

    def nearest_leaves(self, leaf_centroid: np.ndarray, exclude_leaf: str | None = None) -> tuple[LeafMatch, ...]:
        """The indexed leaves whose examples, taken together, are closest to `leaf_centroid`: the best
        merged leaf and the best open PR's leaf, apart."""
        tables = self._tables()
        if not tables.keys:
            return ()
        scores = comparable(tables.centroids @ leaf_centroid)
        for i, (_, leaf) in enumerate(tables.keys):
            if leaf == exclude_leaf:
                scores[i] = -np.inf
        out: list[LeafMatch] = []
        for kind in (tables.merged_keys, ~tables.merged_keys):
            within = np.where(kind, scores, -np.inf)
            i = int(within.argmax())
            if np.isfinite(within[i]):
                out.append(LeafMatch(float(within[i]), tables.keys[i][1], tables.keys[i][0]))
        return tuple(out)

    # storage --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically to `path` (.npz, no pickle); only vectors still in use are kept."""
        used = sorted({i.hash for items in self._leaves.values() for i in items})
        meta = {"format": FORMAT, "model_sha256": WEIGHTS_SHA256,
                "leaves": [{"origin": o, "leaf": leaf, "examples": [[i.yaml_path, i.text, i.context] for i in items]}
                           for (o, leaf), items in sorted(self._leaves.items())]}
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, hashes=np.array(used, dtype="U64"),
                         vectors=np.stack([self._vectors[h] for h in used]) if used
                         else np.zeros((0, DIMENSIONS), np.float32),
                         meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EmbeddingIndex:
        """Read an index written by `save`; a clear IndexFileError for anything else."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                hashes, vectors = npz["hashes"], npz["vectors"]
                meta: dict[str, Any] = json.loads(npz["meta"].tobytes().decode("utf-8"))
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise IndexFileError(f"{path}: not a taxonomist index ({exc})") from None
        if meta.get("format") != FORMAT:
            raise IndexFileError(f"{path}: index format {meta.get('format')!r}, expected {FORMAT}: rebuild it")
        if meta.get("model_sha256") != WEIGHTS_SHA256:
            raise IndexFileError(f"{path}: built with another embedding model: rebuild it")
        if vectors.shape != (len(hashes), DIMENSIONS):
            raise IndexFileError(f"{path}: vectors have shape {vectors.shape}, expected ({len(hashes)}, {DIMENSIONS})")
        out = cls()
        out._vectors = {str(h): v for h, v in zip(hashes, vectors.astype(np.float32), strict=True)}
        try:
            for entry in meta["leaves"]:
                items = tuple(IndexedExample(p, t, text_hash(t), c) for p, t, c in entry["examples"])
                missing = [i.yaml_path for i in items if i.hash not in out._vectors]
                if missing:
                    raise IndexFileError(f"{path}: leaf {entry['leaf']} has examples with no vector ({missing[0]})")
                out._leaves[(entry["origin"], entry["leaf"])] = items
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFileError(f"{path}: malformed leaf table ({exc!r}): rebuild the index") from None
        return out


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The normalised mean of a leaf's example vectors: what the leaf teaches, as one direction."""
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).astype(np.float32)
