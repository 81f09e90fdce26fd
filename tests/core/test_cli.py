"""`taxonomist check` end to end: formats, exit statuses, file selection and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from typer.testing import CliRunner

from taxonomist.cli import app
from tests.conftest import REPO_ROOT
from tests.core.helpers import SKILL_V3, knowledge_v3, write_leaf

runner = CliRunner()
SARIF_SCHEMA = REPO_ROOT / "node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"


def check(*args: str, stdin: str | None = None):
    return runner.invoke(app, ["check", *args], input=stdin)


@pytest.fixture
def taxonomy(tmp_path: Path) -> Path:
    root = tmp_path / "taxonomy"
    write_leaf(root, "compositional_skills/grammar/passive", SKILL_V3)
    write_leaf(root, "knowledge/geography/rivers", knowledge_v3())
    write_leaf(root, "compositional_skills/grammar/broken", SKILL_V3.replace("version: 3\n", ""))
    return root


def test_exit_status_and_text(taxonomy: Path) -> None:
    ok = check(str(taxonomy / "compositional_skills/grammar/passive"))
    assert ok.exit_code == 0 and "1 file checked: 0 errors" in ok.stdout
    bad = check(str(taxonomy))
    assert bad.exit_code == 1
    assert "compositional_skills/grammar/broken/qna.yaml:1:1: error: schema:" in bad.stdout
    assert "3 files checked: 1 error, 0 warnings" in bad.stdout


def test_json_contract(taxonomy: Path) -> None:
    given = str(taxonomy / "compositional_skills/grammar/broken/qna.yaml")
    result = check("--format", "json", given)
    report = json.loads(result.stdout)
    assert report["format"] == 1 and report["findings"] == []
    assert report["summary"] == {"files": 1, "errors": 1, "warnings": 0}
    (entry,) = report["files"]
    assert entry["path"] == "compositional_skills/grammar/broken/qna.yaml"
    assert entry["source"] == given and entry["kind"] == "skill" and entry["schema_version"] == 3
    (finding,) = entry["findings"]
    assert {"check", "severity", "line", "column", "yaml_path", "message"} <= finding.keys()


def test_files_from_many_checkouts(tmp_path: Path, taxonomy: Path) -> None:
    other = tmp_path / "other-checkout"
    write_leaf(other, "compositional_skills/grammar/passive", SKILL_V3)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# two checkouts\n{taxonomy}/compositional_skills/grammar/passive/qna.yaml\n\n"
                       f"{other}/compositional_skills/grammar/passive/qna.yaml\n")
    report = json.loads(check("--files-from", str(listing), "-f", "json").stdout)
    assert [f["path"] for f in report["files"]] == ["compositional_skills/grammar/passive/qna.yaml"] * 2
    assert len({f["source"] for f in report["files"]}) == 2
    piped = check("--files-from", "-", "-f", "json", stdin=listing.read_text())
    assert json.loads(piped.stdout)["summary"]["files"] == 2


def test_github_annotations(taxonomy: Path) -> None:
    given = str(taxonomy / "compositional_skills/grammar/broken/qna.yaml")
    out = check("--format", "github", given).stdout.splitlines()
    assert out[0].startswith(f"::error file={given},line=1,col=1,title=schema::")
    assert "\n" not in out[0]


def test_sarif_validates_against_the_sarif_schema(taxonomy: Path, tmp_path: Path) -> None:
    assert SARIF_SCHEMA.is_file(), "run `make setup`: npm ci installs the SARIF schema"
    target = tmp_path / "out.sarif"
    result = check("--format", "sarif", "-o", str(target), str(taxonomy))
    assert result.exit_code == 1 and result.stdout == ""
    sarif = json.loads(target.read_text())
    Draft7Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    (run,) = sarif["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["schema"]
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_only_and_skip(taxonomy: Path) -> None:
    broken = str(taxonomy / "compositional_skills/grammar/broken")
    assert check("--skip", "schema", broken).exit_code == 0
    assert check("--only", "yamllint,attribution", broken).exit_code == 0
    assert check("--only", "structural", broken).exit_code == 1


@pytest.mark.parametrize("args", [
    ["--only", "no-such-check"],
    ["--schema-version", "newest"],
    ["--config", "/nonexistent/taxonomist.yml"],
    ["/no/such/path/qna.yaml"],
    ["--files-from", "/no/such/list.txt"],
    ["--jobs", "-1"],
])
def test_could_not_check_is_exit_2_with_one_line(args: list[str], taxonomy: Path) -> None:
    result = check(*args, str(taxonomy))
    assert result.exit_code == 2
    assert result.stderr.startswith("taxonomist: ") and result.stderr.count("\n") == 1


def test_config_errors_name_file_line_and_key(taxonomy: Path) -> None:
    config = taxonomy / ".github" / "taxonomist.yml"
    config.parent.mkdir()
    config.write_text("checks:\n  min_exmaples: {skill: 3}\n")
    result = check(str(taxonomy))
    assert result.exit_code == 2
    assert f"{config}:2:3" in result.stderr and "min_exmaples" in result.stderr
    config.write_text("checks:\n  min_examples: {skill: 6}\n")
    result = check("-f", "json", str(taxonomy / "compositional_skills/grammar/passive"))
    assert result.exit_code == 1  # the repository's own, stricter minimum applies


def test_schema_version_override(tmp_path: Path) -> None:
    v1 = "created_by: t\ntask_description: d\nseed_examples:\n" + "".join(
        f"  - question: q{i}\n    answer: a{i}\n" for i in range(5))
    path = write_leaf(tmp_path, "compositional_skills/a/v1", v1, attribution=None)
    assert check("--schema-version", "own", str(path)).exit_code == 0
    assert check("--schema-version", "3", str(path)).exit_code == 1
    assert check(str(path)).exit_code == 1


def test_bad_files_get_findings_not_crashes(tmp_path: Path) -> None:
    leaf = tmp_path / "t" / "compositional_skills" / "bad"
    leaf.mkdir(parents=True)
    cases = {
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00",
        "latin1": b"version: 3\ncreated_by: caf\xe9\n",
        "bomb": ("a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
            f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )).encode(),
        "deep": b"a: " + b"[" * 500 + b"]" * 500 + b"\n",
    }
    for name, data in cases.items():
        (leaf / name).mkdir()
        (leaf / name / "qna.yaml").write_bytes(data)
    huge = leaf / "huge" / "qna.yaml"
    huge.parent.mkdir()
    with huge.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n")
    (leaf / "escape").mkdir()
    os.symlink(secret, leaf / "escape" / "qna.yaml")
    report = json.loads(check("-f", "json", str(tmp_path / "t")).stdout)
    messages = {Path(f["source"]).parent.name: f["findings"][0]["message"] for f in report["files"]}
    assert "binary" in messages["binary"]
    assert "invalid UTF-8" in messages["latin1"]
    assert "alias bomb" in messages["bomb"]
    assert "nesting deeper than 64" in messages["deep"]
    assert "50.0 MiB" in messages["huge"]
    assert "leads out of the taxonomy" in messages["escape"] and "hunter2" not in json.dumps(report)
    assert all(f["findings"][0]["check"] == "yaml-syntax" for f in report["files"])


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def test_changed_since_on_a_real_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    write_leaf(repo, "compositional_skills/a/kept", SKILL_V3)
    write_leaf(repo, "compositional_skills/a/edited", SKILL_V3)
    write_leaf(repo, "compositional_skills/a/deleted", SKILL_V3)
    write_leaf(repo, "compositional_skills/a/attribution_only", SKILL_V3)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "contribution")
    (repo / "compositional_skills/a/edited/qna.yaml").write_text(SKILL_V3.replace("version: 3\n", ""))
    (repo / "compositional_skills/a/attribution_only/attribution.txt").write_text("New source\n")
    (repo / "compositional_skills/a/deleted/qna.yaml").unlink()
    git(repo, "commit", "-qam", "edit")
    write_leaf(repo, "compositional_skills/a/untracked", SKILL_V3)
    (repo / "docs.md").write_text("not a contribution\n")
    monkeypatch.chdir(repo)
    report = json.loads(check("--changed-since", "main", "-f", "json").stdout)
    assert sorted(f["path"] for f in report["files"]) == [
        "compositional_skills/a/attribution_only/qna.yaml",
        "compositional_skills/a/edited/qna.yaml",
        "compositional_skills/a/untracked/qna.yaml",
    ]
    assert check("--changed-since", "no-such-ref").exit_code == 2


def test_structural_run_imports_no_heavy_library(taxonomy: Path) -> None:
    code = (
        "import sys\n"
        "from taxonomist.cli import app\n"
        "try:\n"
        f"    app(['check', '--only', 'structural', {str(taxonomy)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('torch', 'transformers', 'presidio_analyzer', 'spacy', 'sentence_transformers',"
        " 'huey', 'github', 'uvicorn') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_without_the_content_extra_the_structural_checks_still_run(
        taxonomy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import checks.cli

    monkeypatch.setattr(checks.cli, "content_installed", lambda: False)
    pr = taxonomy / "pr.json"
    pr.write_text(json.dumps({"body": "Adds a skill.", "commits": [
        {"sha": "a" * 40, "message": "Add a skill", "author_name": "A", "author_email": "a@example.org"}]}))
    result = check("-f", "json", "--pr", str(pr), str(taxonomy / "compositional_skills/grammar/broken"))
    assert result.exit_code == 1
    assert "running the structural and pull request checks only" in result.stderr
    assert "taxonomist[content]" in result.stderr
    report = json.loads(result.stdout)
    assert [f["check"] for f in report["files"][0]["findings"]] == ["schema"]
    assert [f["check"] for f in report["findings"]] == ["dco"]  # the PR checks need no extra package


def test_nothing_found_is_exit_2_but_nothing_changed_is_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    (empty / "compositional_skills").mkdir(parents=True)
    result = check(str(empty))
    assert result.exit_code == 2 and result.stderr == f"taxonomist: no qna.yaml under {empty}\n"
    listing = tmp_path / "list.txt"
    listing.write_text("# nothing\n")
    assert check("--files-from", str(listing)).exit_code == 2
    repo = tmp_path / "repo"
    write_leaf(repo, "compositional_skills/a/kept", SKILL_V3)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    monkeypatch.chdir(repo)
    unchanged = check("--changed-since", "main")
    assert unchanged.exit_code == 0 and "no contribution changed since main" in unchanged.stderr
    assert "0 files checked: 0 errors, 0 warnings" in unchanged.stdout


def test_counts_read_as_english_and_pr_findings_apart() -> None:
    from checks.findings import FileReport, Finding, Report, Severity

    one = FileReport("compositional_skills/a/qna.yaml", "a/qna.yaml", "skill",
                     findings=[Finding("schema", Severity.ERROR, "x")])
    pr = [Finding("dco", Severity.ERROR, "y"), Finding("pr-template", Severity.WARNING, "z")]
    report = Report(files=[one], findings=pr)
    assert report.summary_line() == ("1 file checked: 1 error, 0 warnings; "
                                     "the pull request (template, sign-off): 1 error, 1 warning")
    from checks.formats import render_github

    assert render_github(report).endswith("1 file checked: 1 error, 0 warnings; "
                                          "the pull request (template, sign-off): 1 error, 1 warning\n")


def test_one_schema_version_parser_and_one_exit_2_helper() -> None:
    import bot.cli
    import checks.cli
    from checks.qna import parse_schema_mode

    assert [parse_schema_mode(v) for v in ("latest", "own", "2", 3)] == ["latest", "own", 2, 3]
    for bad in ("newest", "0", "-1", True):
        with pytest.raises(ValueError, match="latest, own or a version number"):
            parse_schema_mode(bad)
    assert bot.cli.fail.func is checks.cli.fail


@pytest.mark.parametrize("args", [["check"], ["index"], ["index", "build"], ["precheck"], ["bot"], ["bot", "dry-run"],
                                  ["bot", "serve"], ["build"], ["build", "generate"], ["build", "train"]])
def test_help_is_one_style_with_an_example_at_80_columns(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("typer.rich_utils.MAX_WIDTH", 80)  # read from TERMINAL_WIDTH once, at typer's import
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0
    text = result.stdout
    assert "Example: taxonomist " in text
    assert "<bool>" not in text and "[default:" not in text  # flags take no value; defaults in parentheses
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("Usage:") == 1  # `build --help` shows the whole build's options under the group's usage
    if args == ["index", "build"]:
        words = " ".join(text.replace("\u2502", " ").split())  # the help's words, without the box
        assert "[required]" in words and "(default: base)" in words


def test_pr_checks_have_their_own_group_inside_content() -> None:
    from checks.registry import NEEDS_CONTENT_EXTRA, select

    assert select(only=["pr"]) == {"pr-template", "dco"}
    assert not select(skip=["content"]) & {"pr-template", "dco", "pii"}  # --skip content still skips them
    assert "dco" not in NEEDS_CONTENT_EXTRA and "pii" in NEEDS_CONTENT_EXTRA
