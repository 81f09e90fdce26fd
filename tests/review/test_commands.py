"""Parsing review commands from comment bodies: what counts as a command and what is skipped."""

from __future__ import annotations

import pytest

from bot.review.commands import HELP_TEXT, Command, Name, parse


def names(body: str) -> list[str]:
    return [str(c) for c in parse(body).commands]


def test_one_command_per_line_anywhere_in_the_comment() -> None:
    body = "Looks good to me.\n\n/lgtm\nThanks!\n/hold\n"
    assert names(body) == ["/lgtm", "/hold"]


def test_case_and_whitespace_tolerant() -> None:
    assert names("  /LGTM  \r\n/Approve   CANCEL\n\t") == ["/lgtm", "/approve cancel"]


def test_cancel_forms() -> None:
    parsed = parse("/lgtm cancel\n/hold cancel\n/approve cancel")
    assert [(c.name, c.cancel) for c in parsed.commands] == [
        (Name.LGTM, True), (Name.HOLD, True), (Name.APPROVE, True)]


def test_quoted_lines_are_ignored() -> None:
    assert names("> /lgtm\n>/approve\n  > /hold\nno thanks") == []


def test_fenced_code_blocks_are_ignored() -> None:
    body = "```\n/lgtm\n```\n~~~~ text\n/approve\n```\n/hold\n~~~~\n/recheck"
    assert names(body) == ["/recheck"]


def test_an_unclosed_fence_hides_the_rest() -> None:
    assert names("```yaml\n/lgtm\n") == []


def test_indented_code_and_html_comments_are_ignored() -> None:
    body = "    /lgtm\n\t/approve\n<!-- /hold\n/recheck -->\n<!-- /help -->\n/label triage-approved"
    parsed = parse(body)
    assert [str(c) for c in parsed.commands] == ["/label triage-approved"]
    assert parsed.commands[0].line == 6  # line numbers survive the removed comment


def test_inline_mentions_are_not_commands() -> None:
    assert names("please `/lgtm` when ready, or write /lgtm below") == []


def test_paths_and_prose_are_not_commands() -> None:
    parsed = parse("/knowledge/science/qna.yaml\n/ 2 = 1\n//lgtm")
    assert parsed.commands == () and parsed.problems == ()


def test_labels_keep_their_case_and_may_be_several() -> None:
    parsed = parse("/label triage-Approved precheck-generate-ready\n/remove-label triage-needed")
    assert parsed.commands == (
        Command(Name.LABEL, labels=("triage-Approved", "precheck-generate-ready"), line=1),
        Command(Name.REMOVE_LABEL, labels=("triage-needed",), line=2),
    )


@pytest.mark.parametrize(("body", "fragment"), [
    ("/lgmt", "`/lgmt` is not a command"),
    ("/lgtm thanks!", "write `/lgtm` or `/lgtm cancel`"),
    ("/help me", "write `/help`"),
    ("/label", "needs a label name"),
    ("/recheck cancel", "write `/recheck`"),
])
def test_near_commands_are_reported(body: str, fragment: str) -> None:
    parsed = parse(body)
    assert parsed.commands == ()
    assert len(parsed.problems) == 1 and fragment in parsed.problems[0].message


def test_empty_and_missing_bodies() -> None:
    assert parse("").commands == () and parse(None).commands == ()


def test_help_documents_every_command() -> None:
    for name in Name:
        assert f"`/{name}" in HELP_TEXT
    for cancellable in ("lgtm", "approve", "hold"):
        assert f"`/{cancellable} cancel`" in HELP_TEXT


def test_help_text_contains_no_runnable_command() -> None:
    """The bot's own help must never parse as commands, even if bot comments were not filtered."""
    assert parse(HELP_TEXT).commands == ()
