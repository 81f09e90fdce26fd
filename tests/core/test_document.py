"""Reading YAML: real positions, and bounded cost on hostile input."""

from __future__ import annotations

import pytest

from checks.document import Document, DocumentError, Limits, check_size, decode, format_yaml_path


def test_positions_are_real_lines_and_columns() -> None:
    doc = Document.parse("version: 3\nseed_examples:\n  - question: q1\n    answer: a1\n  - question: q2\n")
    assert doc.positions.locate(("version",)) == (1, 10)
    assert doc.positions.locate(("seed_examples", 1, "question")) == (5, 15)
    assert doc.positions.locate(("seed_examples", 1, "question"), key=True) == (5, 5)
    # a path that does not exist falls back to its nearest ancestor
    assert doc.positions.locate(("seed_examples", 1, "answer")) == (5, 5)


def test_yaml_path_format() -> None:
    assert format_yaml_path(()) == "."
    assert format_yaml_path(("seed_examples", 2, "answer")) == ".seed_examples[2].answer"


def test_syntax_error_has_position() -> None:
    with pytest.raises(DocumentError) as err:
        Document.parse("a: 1\nb: [1, 2\nc: 3\n")
    assert err.value.line is not None and err.value.line >= 2
    assert "syntax" in err.value.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(DocumentError) as err:
        Document.parse("\n".join(lines) + "\n", Limits(max_nodes=10_000))
    assert "alias" in err.value.message
    assert err.value.line is not None


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(DocumentError) as err:
        Document.parse("[" * 200 + "]" * 200, Limits(max_depth=64))
    assert "nesting deeper than 64" in err.value.message
    # far deeper than any stack: refused by libyaml's own bound, never a RecursionError
    with pytest.raises(DocumentError, match="nesting"):
        Document.parse("a:\n" + "[" * 100_000 + "]" * 100_000)


def test_undefined_alias_and_second_document() -> None:
    with pytest.raises(DocumentError, match="no anchor"):
        Document.parse("a: *missing\n")
    with pytest.raises(DocumentError, match="more than one YAML document"):
        Document.parse("a: 1\n---\nb: 2\n")


def test_unhashable_key_is_a_document_error() -> None:
    with pytest.raises(DocumentError):
        Document.parse("? [a, b]\n: c\n")


def test_size_limit_and_decoding() -> None:
    with pytest.raises(DocumentError, match=r"over the 1\.0 MiB limit"):
        check_size(50 * 1024 * 1024, Limits(max_bytes=1024 * 1024))
    with pytest.raises(DocumentError, match="binary"):
        decode(b"\x7fELF\x00\x00\x01")
    with pytest.raises(DocumentError) as err:
        decode(b"a: ok\nb: caf\xe9\n")
    assert (err.value.line, err.value.column) == (2, 7)


def test_iter_strings_walks_every_string() -> None:
    doc = Document.parse("a: x\nb:\n  - y\n  - {c: z, n: 3}\n")
    assert sorted(doc.iter_strings()) == [(("a",), "x"), (("b", 0), "y"), (("b", 1, "c"), "z")]


def test_values_are_safe_constructed() -> None:
    doc = Document.parse("when: 2024-01-02\nn: 0x10\nok: yes\n")
    assert doc.data["n"] == 16
    assert doc.data["ok"] is True
    with pytest.raises(DocumentError):
        Document.parse("x: !!python/object/apply:os.system ['true']\n")
