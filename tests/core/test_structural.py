"""Each structural check on fixtures written here: what it catches, where, and what it lets pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.config import ChecksConfig, MinExamples
from checks.findings import FileReport, Severity
from checks.runner import Checker
from checks.sources import DiskSource
from tests.core.helpers import SKILL_V3, knowledge_v3, write_leaf


def run(path: Path, **kwargs) -> FileReport:
    kwargs.setdefault("only", ["structural"])
    return Checker(**kwargs).check_file(DiskSource(str(path)))


def ids(report: FileReport, severity: Severity | None = Severity.ERROR) -> list[str]:
    return [f.check for f in report.findings if severity is None or f.severity is severity]


def test_valid_skill_and_knowledge_pass(tmp_path: Path) -> None:
    skill = write_leaf(tmp_path, "compositional_skills/grammar/passive", SKILL_V3)
    knowledge = write_leaf(tmp_path, "knowledge/geography/rivers", knowledge_v3())
    assert run(skill).findings == []
    report = run(knowledge)
    assert report.findings == []
    assert (report.path, report.kind, report.schema_version) == ("knowledge/geography/rivers/qna.yaml",
                                                                   "knowledge", 3)


def test_file_name(tmp_path: Path) -> None:
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", SKILL_V3, name="qna.yml"))
    assert ids(report) == ["file-name"]
    assert '"qna.yml" is not a valid name' in report.findings[0].message


def test_yaml_syntax_error_at_real_position(tmp_path: Path) -> None:
    text = SKILL_V3.replace("answer: The letter was written by Maria.", "answer: The letter: [was written")
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", text))
    (finding,) = report.findings
    assert finding.check == "yaml-syntax" and finding.severity is Severity.ERROR
    assert finding.line == 8 and finding.column is not None and finding.column > 1
    assert finding.message  # upstream prints an empty message here; ours says what is wrong


def test_empty_file_is_a_warning(tmp_path: Path) -> None:
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", ""))
    assert [(f.check, f.severity) for f in report.findings] == [("yaml-syntax", Severity.WARNING)]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", "- a\n- b\n"))
    assert ids(report) == ["schema"]
    assert "top-level element" in report.findings[0].message


def test_yamllint_runs_in_process_for_v2_plus_only(tmp_path: Path) -> None:
    text = SKILL_V3.replace("created_by: tester", "created_by: tester   ")
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", text))
    (finding,) = [f for f in report.findings if f.check == "yamllint"]
    assert (finding.line, finding.column, finding.severity) == (2, 19, Severity.ERROR)
    assert "trailing spaces" in finding.message
    v1 = text.replace("version: 3", "version: 1").replace("task_description", "task_description")
    own = run(write_leaf(tmp_path, "compositional_skills/grammar/passive_v1", v1, attribution=None),
              schema_version="own")
    assert "yamllint" not in ids(own, None)


def test_yamllint_config_comes_from_repo_config(tmp_path: Path) -> None:
    text = SKILL_V3.replace("created_by: tester", "created_by: tester   ")
    path = write_leaf(tmp_path, "compositional_skills/grammar/passive", text)
    relaxed = ChecksConfig(yamllint="{extends: relaxed, rules: {trailing-spaces: disable}}")
    assert "yamllint" not in ids(run(path, config=relaxed), None)


def test_schema_errors_point_at_the_field(tmp_path: Path) -> None:
    text = SKILL_V3.replace("task_description: Turn a sentence into its passive form.", "task_description:")
    text = text.replace("    answer: The roof was damaged by the storm.\n",
                        "    answer: The roof was damaged by the storm.\n    attribution: me\n")
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", text))
    by_path = {f.yaml_path: f for f in report.findings if f.check == "schema"}
    task = by_path[".task_description"]
    assert task.line == 3 and "must be string" in task.message and "null" in task.message
    extra = by_path[".seed_examples[2].attribution"]
    assert extra.line == 11 and extra.column == 5
    assert "`attribution` not allowed" in extra.message and "answer" in extra.message


def test_missing_version_tells_what_to_add(tmp_path: Path) -> None:
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", SKILL_V3.replace("version: 3\n", "")))
    messages = [f.message for f in report.findings if f.check == "schema"]
    assert any("add `version: 3`" in m for m in messages)


def test_own_version_mode_and_unknown_version(tmp_path: Path) -> None:
    v1 = "created_by: t\ntask_description: d\nseed_examples:\n" + "".join(
        f"  - question: q{i}\n    answer: a{i}\n" for i in range(5))
    path = write_leaf(tmp_path, "compositional_skills/grammar/v1", v1, attribution=None)
    assert run(path, schema_version="own").findings == []
    latest = run(path)
    assert "attribution" in ids(latest) and "schema" in ids(latest)
    future = write_leaf(tmp_path, "compositional_skills/grammar/v24", "version: 24\n" + v1)
    (finding,) = [f for f in run(future, schema_version="own").findings if f.check == "schema"]
    assert "no schema version 24" in finding.message and finding.line == 1


def test_knowledge_below_v3_is_refused_with_upstream_message(tmp_path: Path) -> None:
    text = knowledge_v3().replace("version: 3", "version: 2")
    report = run(write_leaf(tmp_path, "knowledge/geography/rivers", text), schema_version="own")
    assert any("Version 2 is not supported for knowledge" in f.message for f in report.findings)


def test_attribution_missing_or_empty(tmp_path: Path) -> None:
    missing = run(write_leaf(tmp_path, "compositional_skills/a/b", SKILL_V3, attribution=None))
    assert ids(missing) == ["attribution"]
    empty = run(write_leaf(tmp_path, "compositional_skills/a/c", SKILL_V3, attribution="  \n"))
    assert ids(empty) == ["attribution"] and "empty" in empty.findings[0].message


def test_min_examples_reports_only_what_the_schema_does_not(tmp_path: Path) -> None:
    # the v3 schema already requires 5 seed examples: no second report from min-examples
    four = SKILL_V3.rsplit("  - question: Make this passive - The chef", 1)[0]
    report = run(write_leaf(tmp_path, "compositional_skills/a/b", four))
    assert ids(report) == ["schema"]
    # v1 in own-version mode: the schema asks for 1, upstream's checklist for 5
    v1 = "created_by: t\ntask_description: d\nseed_examples:\n" + "".join(
        f"  - question: q{i}\n    answer: a{i}\n" for i in range(3))
    report = run(write_leaf(tmp_path, "compositional_skills/a/v1", v1, attribution=None), schema_version="own")
    assert ids(report) == ["min-examples"] and "3 seed examples" in report.findings[0].message
    stricter = ChecksConfig(min_examples=MinExamples(skill=6))
    assert ids(run(write_leaf(tmp_path, "compositional_skills/a/c", SKILL_V3), config=stricter)) == ["min-examples"]


def test_long_context_is_a_warning(tmp_path: Path) -> None:
    text = knowledge_v3().replace("after a long journey through the hills.", " ".join(["word"] * 600), 1)
    report = run(write_leaf(tmp_path, "knowledge/geography/rivers", text))
    (finding,) = report.findings
    assert (finding.check, finding.severity, finding.yaml_path) == (
        "min-examples", Severity.WARNING, ".seed_examples[0].context")


@pytest.mark.parametrize(("leaf", "text", "expected"), [
    ("compositional_skills/my skill/x", SKILL_V3, "whitespace"),
    ("compositional_skills/geography/rivers", knowledge_v3(), "under knowledge/"),
    ("knowledge/grammar/passive", SKILL_V3, "under compositional_skills/"),
    ("compositional_skills/qna_here", SKILL_V3, None),
])
def test_placement(tmp_path: Path, leaf: str, text: str, expected: str | None) -> None:
    report = run(write_leaf(tmp_path, leaf, text))
    placement = [f for f in report.findings if f.check == "placement"]
    if expected is None:
        assert placement == []
    else:
        assert placement and expected in placement[0].message


def test_placement_outside_taxonomy_and_grounded(tmp_path: Path) -> None:
    outside = run(write_leaf(tmp_path, "somewhere/else", SKILL_V3))
    assert "outside the taxonomy" in outside.findings[0].message
    assert outside.path.endswith("somewhere/else/qna.yaml")
    grounded = SKILL_V3.replace("  - question: Make this passive - The cat",
                                "  - context: A cat and a mouse.\n    question: Make this passive - The cat")
    report = run(write_leaf(tmp_path, "compositional_skills/freeform/passive", grounded))
    assert [(f.check, f.severity) for f in report.findings] == [("placement", Severity.WARNING)]


@pytest.mark.parametrize(("repo", "commit", "expected"), [
    ("https://github.com/example/docs", "a" * 40, None),
    ("git@github.com:example/docs.git", "a" * 40, None),
    ("github.com/example/docs", "a" * 40, "not a git URL"),
    ("https://github.com/example/docs/blob/main/rivers.md", "a" * 40, "file or folder view"),
    ("https://github.com/example/docs", "abc1234", "not a full commit SHA"),
    ("https://github.com/example/docs", "main", "not a full commit SHA"),
])
def test_knowledge_document(tmp_path: Path, repo: str, commit: str, expected: str | None) -> None:
    report = run(write_leaf(tmp_path, "knowledge/geography/rivers", knowledge_v3(commit=commit, repo=repo)))
    found = [f for f in report.findings if f.check == "knowledge-document"]
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0].message and found[0].severity is Severity.ERROR
        assert found[0].line is not None and found[0].line > 20


def test_knowledge_document_patterns(tmp_path: Path) -> None:
    text = knowledge_v3().replace("    - rivers.md", "    - ../secrets.md")
    report = run(write_leaf(tmp_path, "knowledge/geography/rivers", text))
    assert [f.yaml_path for f in report.findings] == [".document.patterns[0]"]


def test_misspelled_key_gets_did_you_mean_and_allowed_keys_are_not_blamed(tmp_path: Path) -> None:
    text = SKILL_V3.replace("task_description:", "task_descripton:")
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", text))
    (extra,) = [f for f in report.findings if f.yaml_path == ".task_descripton"]
    assert extra.message.startswith("`task_descripton` (did you mean `task_description`?) not allowed at the top "
                                    "level of the file")
    assert "`version`" not in extra.message  # version is allowed (through the schema's $ref)
    assert (extra.line, extra.column) == (3, 1)
    # the misspelling explains the missing `task_description`: one finding, not two
    assert [f.yaml_path for f in report.findings if f.check == "schema"] == [".task_descripton"]


def test_one_misspelled_key_in_every_example_is_one_finding(tmp_path: Path) -> None:
    """Issue 25: `anwser:` in five examples was ten errors (unknown key, missing `answer`, five times)."""
    lines = ["version: 3", "created_by: someone", "task_description: a task", "seed_examples:"]
    for i in range(5):
        lines += [f"  - question: What is {i}?", f"    anwser: It is {i}."]
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", "\n".join(lines) + "\n"))
    (found,) = [f for f in report.findings if f.check == "schema"]
    assert found.message.startswith("`anwser` (did you mean `answer`?) not allowed under `.seed_examples[0]`")
    assert "(the same in 4 more places: `.seed_examples[1]`, `.seed_examples[2]`, `.seed_examples[3]`, " \
           "`.seed_examples[4]`)" in found.message
    assert (found.line, found.column) == (6, 5)


def test_too_few_items_says_how_many_are_needed_and_there_are(tmp_path: Path) -> None:
    text = "version: 3\ncreated_by: t\ntask_description: d\nseed_examples:\n  - question: q\n    answer: a\n"
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", text))
    (short,) = [f for f in report.findings if f.yaml_path == ".seed_examples"]
    assert "at least 5 items (has 1): add 4 more" in short.message


def test_repeated_example_points_at_the_copy(tmp_path: Path) -> None:
    text = SKILL_V3 + "  - question: Make this passive - The cat chased the mouse.\n" \
                      "    answer: The mouse was chased by the cat.\n"
    report = run(write_leaf(tmp_path, "compositional_skills/grammar/passive", text))
    (copy,) = [f for f in report.findings if f.check == "schema"]
    assert copy.yaml_path == ".seed_examples[5]" and copy.line == 15
    assert copy.message == "`.seed_examples[5]` repeats `.seed_examples[0]`: each entry must differ"


def test_crlf_line_endings_are_clean_as_upstream_reads_them(tmp_path: Path) -> None:
    path = write_leaf(tmp_path, "compositional_skills/grammar/passive", SKILL_V3)
    path.write_bytes(SKILL_V3.replace("\n", "\r\n").encode())
    assert run(path).findings == []
    path.write_bytes(SKILL_V3.replace("\n", "\r\n").replace("tester\r\n", "tester  \r\n").encode())
    (trailing,) = run(path).findings
    assert (trailing.check, trailing.line, trailing.column) == ("yamllint", 2, 19)


def test_messages_quote_long_values_by_an_excerpt(tmp_path: Path) -> None:
    text = knowledge_v3(repo="x" * 100_000, commit="y" * 100_000)
    report = run(write_leaf(tmp_path, "knowledge/geography/rivers", text))
    found = [f for f in report.findings if f.check == "knowledge-document"]
    assert len(found) == 2 and all(len(f.message) < 300 and "..." in f.message for f in found)

