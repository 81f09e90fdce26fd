"""The layering holds with no arrow back up (issue 12): read from the sources' import statements."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(folder: str) -> dict[str, set[str]]:
    """Module path -> every module it imports (absolute imports, at any depth of the file)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
        found[path.relative_to(ROOT).as_posix()] = names
    return found


def offenders(folder: str, forbidden: str) -> list[str]:
    return [f"{path} imports {name}" for path, names in imports_of(folder).items() for name in sorted(names)
            if name == forbidden or name.startswith(forbidden + ".")]


def test_bot_and_pipeline_never_import_the_top_level_package() -> None:
    assert offenders("bot", "taxonomist") == [] and offenders("pipeline", "taxonomist") == []


def test_checks_imports_neither_bot_nor_pipeline() -> None:
    assert offenders("checks", "bot") == [] and offenders("checks", "pipeline") == []


def test_triage_and_review_do_not_import_each_other() -> None:
    assert offenders("bot/review", "bot.triage") == [] and offenders("bot/review", "bot.handlers") == []
    triage = imports_of("bot")["bot/triage.py"]
    assert not any(name.startswith("bot.review") for name in triage)
