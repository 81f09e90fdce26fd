"""Where a file sits in the taxonomy, found from its path alone, as upstream does."""

from __future__ import annotations

from pathlib import PurePath, PurePosixPath

TAXONOMY_ROOTS = ("compositional_skills", "knowledge", "foundational_skills")
QNA_NAMES = ("qna.yaml", "qna.yml")


def taxonomy_path(path: str | PurePath) -> PurePosixPath | None:
    """The path from the last taxonomy folder component on, or None outside any taxonomy folder."""
    parts = PurePath(path).parts
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in TAXONOMY_ROOTS:
            return PurePosixPath(*parts[i:])
    return None


def taxonomy_root(path: str | PurePath) -> PurePath | None:
    """The folder holding the taxonomy folders (the checkout root), if the path is inside one."""
    p = PurePath(path)
    for i in range(len(p.parts) - 1, -1, -1):
        if p.parts[i] in TAXONOMY_ROOTS:
            return PurePath(*p.parts[:i]) if i else PurePath(".")
    return None


def kind_of(tax_path: PurePosixPath | None) -> str:
    """`skill`, `knowledge`, `foundational` or `unknown`, from the first component."""
    if tax_path is None:
        return "unknown"
    return {
        "compositional_skills": "skill",
        "knowledge": "knowledge",
        "foundational_skills": "foundational",
    }.get(tax_path.parts[0], "unknown")


def leaf_of(tax_path: PurePosixPath) -> str:
    """A leaf's identity: its folder path under the taxonomy (`compositional_skills/.../haiku`)."""
    return tax_path.parent.as_posix()
