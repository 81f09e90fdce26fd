"""`taxonomist index build` and `taxonomist check --against INDEX --pr PR.json`, through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taxonomist.cli import app
from tests.content.conftest import skill_yaml
from tests.content.test_duplicate import RHYMES, RIVERS
from tests.content.test_pr import FILLED, TEMPLATE

pytestmark = pytest.mark.slow


def write(root: Path, leaf: str, pairs: list[tuple[str, str]]) -> Path:
    folder = root / leaf
    folder.mkdir(parents=True)
    (folder / "qna.yaml").write_text(skill_yaml(pairs), encoding="utf-8")
    return folder / "qna.yaml"


def test_index_build_then_check_against_it_with_pr_metadata(tmp_path: Path) -> None:
    base = tmp_path / "base"
    write(base, "compositional_skills/linguistics/rhymes", RHYMES)
    write(base, "compositional_skills/geography/rivers", RIVERS)
    index = tmp_path / "base.npz"
    runner = CliRunner()
    built = runner.invoke(app, ["index", "build", str(base), "--out", str(index)])
    assert built.exit_code == 0, built.output
    assert "2 leaves, 10 texts embedded" in built.output
    again = runner.invoke(app, ["index", "build", str(base), "--out", str(index)])
    assert "0 texts embedded" in again.output

    pr_root = tmp_path / "pr"
    contribution = write(pr_root, "compositional_skills/words/rhymes", [*RHYMES[:2], ("What is 2+2?", "4")])
    (pr_root / ".github").mkdir()
    (pr_root / ".github" / "pull_request_template.md").write_text(TEMPLATE)
    pr_json = tmp_path / "pr.json"
    pr_json.write_text(json.dumps({"body": FILLED, "commits": [
        {"sha": "f" * 40, "message": "Add rhymes", "author_name": "Ann", "author_email": "ann@example.com"}]}))
    result = runner.invoke(app, ["check", str(contribution), "--only", "duplicate,dco,pr-template",
                                 "--against", str(index), "--pr", str(pr_json), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    file_checks = [(f["check"], f["severity"]) for f in report["files"][0]["findings"]]
    assert file_checks.count(("duplicate", "error")) == 2
    assert [(f["check"], f["severity"]) for f in report["findings"]] == [("dco", "error")]
    assert "ffffffffffff" in report["findings"][0]["message"]


def test_bad_index_and_pr_files_exit_2(tmp_path: Path) -> None:
    leaf = write(tmp_path, "compositional_skills/a/b", RHYMES)
    bogus = tmp_path / "bogus.npz"
    bogus.write_text("nope")
    runner = CliRunner()
    result = runner.invoke(app, ["check", str(leaf), "--only", "duplicate", "--against", str(bogus)])
    assert result.exit_code == 2 and "not a taxonomist index" in result.output
    pr_json = tmp_path / "pr.json"
    pr_json.write_text('{"body": 3}')
    result = runner.invoke(app, ["check", str(leaf), "--only", "dco", "--pr", str(pr_json)])
    assert result.exit_code == 2 and "body must be a string" in result.output
