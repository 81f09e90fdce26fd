"""Reading a qna.yaml safely: bounded size, depth and alias expansion, with node positions kept.

The text is parsed once with libyaml's event stream (C, no recursion), composed into nodes by a
small iterative composer that enforces the limits, then turned into plain Python values by
PyYAML's SafeConstructor. Every node's position is kept under its path so that a finding about
`.seed_examples[2].answer` points at the real line and column.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

PathKey = tuple[Hashable, ...]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one file may cost to read; each is configurable (`checks.limits`)."""

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 100_000
    # Characters of text after alias expansion: aliases must not buy more than a plain file could hold.
    max_expanded_chars: int = 5 * 1024 * 1024
    # yamllint is pure Python (and quadratic in the keys of one mapping): beyond these it does not run.
    yamllint_max_bytes: int = 1024 * 1024
    yamllint_max_lines: int = 30_000
    yamllint_max_nodes: int = 10_000


class DocumentError(Exception):
    """The file cannot be read as YAML; carries the position of the problem when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(slots=True)
class Positions:
    """1-based (line, column) of each value and each mapping key, by path."""

    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> tuple[int, int]:
        """The position of `path`, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if key and p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))


def format_yaml_path(path: PathKey) -> str:
    """`.seed_examples[2].answer`, the way upstream and jq spell a path (`.` for the root)."""
    out = []
    for part in path:
        out.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(out) or "."


def check_size(size: int, limits: Limits) -> None:
    """Refuse a file before reading it when it is larger than the configured bound."""
    if size > limits.max_bytes:
        raise DocumentError(
            f"the file is {size / 1_048_576:.1f} MiB, over the {limits.max_bytes / 1_048_576:.1f} MiB "
            "limit for a qna.yaml (checks.limits.max_bytes); split the contribution or trim it"
        )


def decode(data: bytes) -> str:
    """The bytes as text, or a DocumentError saying why they are not (binary, encoding).

    Line endings become `\\n` as upstream's text-mode read makes them, so a file saved with
    Windows (CRLF) line endings reads exactly as upstream reads it.
    """
    if b"\x00" in data[:8192]:
        raise DocumentError("this is a binary file, not YAML text")
    try:
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DocumentError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8", line, column
        ) from None


def _mark(node_or_event: Any) -> tuple[int, int]:
    m = node_or_event.start_mark
    return m.line + 1, m.column + 1


def _too_big(what: str, bound: int, key: str, node_or_event: Any) -> DocumentError:
    line, col = _mark(node_or_event)
    return DocumentError(
        f"the document expands to more than {bound:,} {what} (an alias bomb or a runaway file; "
        f"checks.limits.{key})",
        line,
        col,
    )


def compose(text: str, limits: Limits) -> Node | None:
    """Compose the single YAML document in `text` into nodes, enforcing depth and alias limits.

    Both the number of nodes and the characters of text are counted as if every alias were
    written out, so one anchored string repeated by aliases costs what its copies would.
    """
    resolver = Resolver()
    anchors: dict[str, Node] = {}
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> expanded (nodes, characters)
    stack: list[tuple[Node, list[Any]]] = []
    root: Node | None = None
    expanded_nodes = expanded_chars = 0
    documents = 0

    def attach(node: Node, nodes: int, chars: int, at: Any = None) -> None:
        """Add `node` to its parent; `at` (an alias event) is where it appears, if not at the node."""
        nonlocal root, expanded_nodes, expanded_chars
        expanded_nodes += nodes
        expanded_chars += chars
        if expanded_nodes > limits.max_nodes:
            raise _too_big("nodes", limits.max_nodes, "max_nodes", at or node)
        if expanded_chars > limits.max_expanded_chars:
            raise _too_big("characters of text", limits.max_expanded_chars, "max_expanded_chars", at or node)
        if stack:
            stack[-1][1].append(node)
        else:
            root = node

    try:
        for event in yaml.parse(text, Loader=_EventLoader):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    line, col = _mark(event)
                    raise DocumentError(
                        "more than one YAML document in the file (a second `---`); "
                        "a qna.yaml holds exactly one",
                        line,
                        col,
                    )
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    line, col = _mark(event)
                    raise DocumentError(f"alias *{event.anchor} refers to no anchor", line, col)
                target = anchors[event.anchor]
                if id(target) not in sizes:
                    line, col = _mark(event)
                    raise DocumentError(f"alias *{event.anchor} refers to a collection that contains it "
                                        "(a recursive structure)", line, col)
                attach(target, *sizes[id(target)], at=event)
            elif isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(ScalarNode, event.value, event.implicit)
                node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
                sizes[id(node)] = (1, len(event.value))
                if event.anchor:
                    anchors[event.anchor] = node
                attach(node, 1, len(event.value))
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= limits.max_depth:
                    line, col = _mark(event)
                    raise DocumentError(
                        f"nesting deeper than {limits.max_depth} levels (checks.limits.max_depth)",
                        line,
                        col,
                    )
                is_seq = isinstance(event, yaml.SequenceStartEvent)
                cls: type[Node] = SequenceNode if is_seq else MappingNode
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(cls, None, event.implicit)
                node = cls(tag, [], event.start_mark, None, flow_style=event.flow_style)
                if event.anchor:
                    anchors[event.anchor] = node
                stack.append((node, []))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node, children = stack.pop()
                node.end_mark = event.end_mark
                if isinstance(node, SequenceNode):
                    node.value = children
                else:
                    node.value = list(zip(children[::2], children[1::2], strict=True))
                child_sizes = [sizes[id(c)] for c in children]
                sizes[id(node)] = (1 + sum(n for n, _ in child_sizes), sum(c for _, c in child_sizes))
                # children were already counted as they arrived; count the container itself
                attach(node, 1, 0)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise DocumentError(
            f"YAML syntax error: {problem}{context}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"YAML syntax error: {exc}") from None
    return root


class _Constructor(SafeConstructor):
    """PyYAML's safe constructor, with keys kept as written and bad values reported where they are.

    A qna.yaml is JSON-shaped: keys are names. `1:`, `yes:` or `~:` would become a number, a
    boolean or None (which no schema allows and which JSON tooling cannot sort or compare), so
    a scalar key is kept as the text written; the schema then names it as an unknown key.
    """

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        self.flatten_mapping(node)
        mapping: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                key: Hashable = key_node.value
            else:
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, Hashable):
                    raise ConstructorError("while constructing a mapping", node.start_mark,
                                           "found unhashable key", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            value = super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConstructorError(None, None, _unreadable(node, exc), node.start_mark) from None
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:  # hex, octal, binary, base 60, `_`
            raise ConstructorError(None, None, _too_large(node), node.start_mark)
        return value


_INT_TAG = "tag:yaml.org,2002:int"
# Python reads hex, octal and binary of any length, but no integer past this many decimal digits can be shown
# (or written to JSON): one is refused whatever its notation, as a decimal one is.
_MAX_INT_BITS = math.floor(sys.get_int_max_str_digits() * math.log2(10))


def _too_large(node: Node) -> str:
    size = len(node.value) if isinstance(node, ScalarNode) else 0
    return (f"a number written with {size:,} characters is too large to read (at most "
            f"{sys.get_int_max_str_digits():,} decimal digits); quote it if it is meant as text")


def _unreadable(node: Node, exc: Exception) -> str:
    """Why a scalar cannot become a value, said for a contributor (no Python internals)."""
    text = node.value if isinstance(node, ScalarNode) else ""
    if node.tag == _INT_TAG and len(text) > sys.get_int_max_str_digits():
        return (f"a number with {len(text):,} digits is too long to read (at most "
                f"{sys.get_int_max_str_digits():,}); quote it if it is meant as text")
    excerpt = text if len(text) <= 40 else text[:37] + "..."
    return f"the value {excerpt!r} cannot be read as {node.tag.rsplit(':', 1)[-1]} ({exc})"


def construct(root: Node) -> Any:
    """Plain Python values from composed nodes (safe tags only: no object construction)."""
    try:
        return _Constructor().construct_document(root)
    except ConstructorError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise DocumentError(
            f"YAML error: {exc.problem or exc.context}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None


def positions_of(root: Node) -> Positions:
    """Walk the node tree once (aliases not re-entered) and record every path's position."""
    pos = Positions()
    seen: set[int] = set()
    todo: list[tuple[PathKey, Node]] = [((), root)]
    while todo:
        path, node = todo.pop()
        pos.values.setdefault(path, _mark(node))
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            todo.extend(((*path, i), child) for i, child in enumerate(node.value))
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode):
                    key: Hashable = key_node.value
                    pos.keys.setdefault((*path, key), _mark(key_node))
                    todo.append(((*path, key), value_node))
    return pos


@dataclass(slots=True)
class Document:
    """A parsed qna.yaml: its text, its values and where each value sits."""

    text: str
    data: Any
    positions: Positions

    @classmethod
    def parse(cls, text: str, limits: Limits | None = None) -> Document:
        limits = limits or Limits()
        root = compose(text, limits)
        if root is None:
            return cls(text=text, data=None, positions=Positions())
        return cls(text=text, data=construct(root), positions=positions_of(root))

    def iter_strings(self) -> Iterator[tuple[PathKey, str]]:
        """Every string value with its path, depth first, for checks that read the prose."""
        todo: list[tuple[PathKey, Any]] = [((), self.data)]
        while todo:
            path, value = todo.pop()
            if isinstance(value, str):
                yield path, value
            elif isinstance(value, dict):
                todo.extend(((*path, k), v) for k, v in reversed(list(value.items())))
            elif isinstance(value, list):
                todo.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
