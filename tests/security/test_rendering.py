"""Issue 11.4: user text reaches GitHub only through `bot.comment.sticky.escape`, and within GitHub's limits.
Issue 22.3 and 22.7: nothing hidden (invisible, bidi, tag characters) on GitHub or the dashboard, no live
links or cross-references from model or PR text."""

from __future__ import annotations

import re

from bot.comment.sticky import escape
from bot.review.commands import parse
from bot.review.effects import plan
from bot.review.state import derive
from bot.triage.render import MARKER, render_check_run, render_comment
from checks.config import ReviewConfig
from checks.findings import FileReport, Report
from tests.bot.helpers import finding, report
from tests.review.helpers import comment, team_membership, timeline
from tests.review.test_scenarios import AUTHOR, LEAF, REPO, Scene, contribution

COMMENT_LIMIT, CHECK_RUN_LIMIT = 65536, 65535  # GitHub's (the emulator refuses a longer comment)
HOSTILE = "@octocat `x` <img src=x onerror=alert(1)> | </details> &amp; [a](http://t.example/p.png)\n/approve"


def _outside_code(text: str) -> str:
    """`text` without its inline code spans (HTML inside one is shown as text)."""
    return re.sub(r"(`+)(?:(?!\1).)+?\1", "", text)


def _unescaped_pipes(row: str) -> int:
    return len(re.findall(r"(?<!\\)\|", row))


def test_user_text_cannot_ping_inject_html_break_tables_or_issue_commands() -> None:
    bad_path = "compositional_skills/x`y|z/@team <b>/qna.yaml"
    body = render_comment(Report(files=[FileReport(path=bad_path, source=bad_path, kind="skill", schema_version=3,
                                                   findings=[finding(message=HOSTILE, path=bad_path)])]), "f" * 40)
    assert "@octocat" not in body and "@team" not in body  # shown, but as @\u200bname: no ping
    outside = _outside_code(body)
    assert "<img" not in outside and "</details>" not in outside and "<b>" not in outside
    assert "[a](http" not in body and "\\[a\\](`http" in body  # no link nor tracking image
    assert not any(line.lstrip().startswith("/approve") for line in body.splitlines())
    (row,) = [line for line in body.splitlines() if "onerror" in line]
    assert _unescaped_pipes(row) == 6  # five cells: the message's pipe did not add one
    heading = next(line for line in body.splitlines() if line.startswith("### ") and "qna.yaml" in line)
    assert heading.startswith("### ``compositional") and "x`y" in heading  # a code span the backtick cannot close
    assert body.count(MARKER) == 1


def test_annotation_and_summary_text_is_escaped_and_bounded() -> None:
    result = render_check_run(report(finding(message="k" * 70_000 + "\n::error::forged")))
    (annotation,) = result.annotations
    assert len(annotation.message) <= 4000 and "\n" not in annotation.message
    assert "<" not in render_check_run(report(finding(path="<script>/qna.yaml"))).summary.replace("<!--", "")


def test_replies_escape_what_a_commenter_wrote() -> None:
    body = "/label `@everyone <b>`"
    state = derive(timeline(comment(1, "tess", body, 1)), ReviewConfig(triagers=("tess",), labels=("ok",)),
                   team_membership)
    (reply,) = plan(state, ReviewConfig(triagers=("tess",), labels=("ok",)), labels=set(), triage=None,
                    comment_id=1).replies
    assert "@everyone" not in reply.body and "<b>" not in _outside_code(reply.body)
    (problem,) = parse("/lgtm @everyone now").problems
    assert "@everyone" not in problem.message


def test_a_70000_character_key_still_gets_a_bounded_comment() -> None:
    key = "k" * 70_000
    body = render_comment(report(finding(message=f"unknown key {key}")), "b" * 40)
    assert len(body.encode()) <= COMMENT_LIMIT and "k" * 1000 not in body


def test_a_70000_character_key_on_github_gets_its_comment_and_a_completed_check_run(scene: Scene) -> None:
    files = contribution("\n")
    qna = f"{LEAF}/qna.yaml"
    files[qna] = files[qna] + f"{'k' * 70_000}: @octocat <b>\n"
    pushed = scene.gh.push_to_pull(REPO, scene.number, files, author=AUTHOR)
    scene.triaged(scene.hooks.pull_request(REPO, scene.number, "synchronize", before=pushed["before"]))
    (run,) = [r for r in scene.state()["check_runs"] if r["head_sha"] == scene.head]
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    sticky = scene.sticky()
    assert scene.head[:7] in sticky and len(sticky.encode()) <= COMMENT_LIMIT and "@octocat" not in sticky


HIDDEN = ["\u061c", "\u200e", "\u202e", "\u2066", "\u2069", "\u00ad", "\ufeff", "\U000e0041", "\U000e007f", "\u180e",
          "\u3164", "\u034f"]


def test_invisible_bidi_and_tag_characters_are_removed_from_everything_escaped() -> None:
    for hidden in HIDDEN:
        for text in (escape(f"safe{hidden}text"), escape(f"safe{hidden}text", code=True),
                     escape(f"safe{hidden}text", plain=True)):
            assert hidden not in text and "safe" in text and "text" in text, (hidden, text)


def _outside_spans(text: str) -> str:
    return re.sub(r"(`+).*?\1", "", text)


def test_links_and_cross_references_in_model_or_pr_text_are_neutralised() -> None:
    model_answer = ("See https://evil.example/x?y=1 and www.evil.example/login, then "
                    "octo-org/other-repo#12, torvalds/linux@1234567abc, #34 and GH-56. Mail me: a@b.example")
    shown = escape(model_answer)
    outside = _outside_spans(shown)
    for live in ("https://", "www.", "#12", "@1234567", "#34", "GH-56"):
        assert live not in outside, (live, shown)
    assert "`https://evil.example/x?y=1`" in shown and "`octo-org/other-repo#12`" in shown
    assert "@\u200b" in shown  # the address cannot ping either
    assert escape("fix the 2nd item") == "fix the 2nd item"  # ordinary words are left alone


def test_the_dashboard_strips_hidden_characters_from_every_value(tmp_path) -> None:
    from bot.dashboard.web import TEMPLATES

    page = TEMPLATES.env.from_string("<p>{{ title }}</p><a title='{{ author }}'>{{ n }}</a>").render(
        title="Fix\u202egnp.exe \U000e0041dd", author="mal\u200blory\u061c", n=7)
    assert not any(h in page for h in [*HIDDEN, "\u200b"])
    assert "Fixgnp.exe dd" in page and "mallory" in page and ">7<" in page
