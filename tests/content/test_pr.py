"""`pr-template`, `dco` and the PR metadata they read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checks.config import ChecksConfig
from checks.content.dco import check_dco
from checks.content.pr_template import check_pr_template
from checks.context import CheckContext
from checks.findings import Severity
from checks.pr import Commit, PrError, PullRequest

CTX = CheckContext(ChecksConfig())
TEMPLATE = """**What does this PR do?**

...

**Which leaves does it add or change?**

...

## Checklist

- [ ] The contribution passes `taxonomist check`.
- [ ] I have the rights to contribute this content.
- [ ] Commits are signed off (DCO).
"""
FILLED = TEMPLATE.replace("...", "Adds rhyming examples.", 1).replace("...", "linguistics/rhymes").replace(
    "- [ ]", "- [x]")


def pr(body: str, *commits: Commit) -> PullRequest:
    return PullRequest(body=body, commits=commits, template=TEMPLATE)


def messages(body: str) -> list[str]:
    return [f.message for f in check_pr_template(pr(body), CTX)]


def test_filled_template_passes() -> None:
    assert messages(FILLED) == []


def test_placeholder_sections_and_unticked_items() -> None:
    body = FILLED.replace("linguistics/rhymes", "...").replace("- [x] I have the rights", "- [ ] I have the rights")
    assert messages(body) == [
        "section 'which leaves does it add or change?' is left as in the template: fill it in",
        "checklist item 'i have the rights to contribute this content.' is not ticked: do it and tick it, "
        "or say why not"]


def test_deleted_template_is_one_finding() -> None:
    found = list(check_pr_template(pr("Adds some rhymes, thanks!"), CTX))
    assert len(found) == 1 and "does not follow the pull request template" in found[0].message
    assert found[0].severity is Severity.WARNING and found[0].path is None


def test_no_template_no_findings() -> None:
    assert list(check_pr_template(PullRequest(body="anything"), CTX)) == []


def test_dco_names_each_bad_commit() -> None:
    good = Commit("a" * 40, "Add rhymes\n\nSigned-off-by: Ann Lee <ann@example.com>", "Ann Lee", "ann@example.com")
    unsigned = Commit("b" * 40, "Fix typo", "Ann Lee", "ann@example.com")
    other = Commit("c" * 40, "More\n\nSigned-off-by: Bob <bob@example.com>", "Ann Lee", "ann@example.com")
    found = list(check_dco(pr(FILLED, good, unsigned, other), CTX))
    assert [f.severity for f in found] == [Severity.ERROR, Severity.ERROR]
    assert "bbbbbbbbbbbb" in found[0].message and "no `Signed-off-by:`" in found[0].message
    assert "cccccccccccc" in found[1].message and "Bob <bob@example.com>" in found[1].message


def test_sign_off_matches_email_case_insensitively() -> None:
    commit = Commit("d" * 40, "x\n\nsigned-off-by: Ann <ANN@Example.com>", "Ann", "ann@example.com")
    assert list(check_dco(pr(FILLED, commit), CTX)) == []


def test_pr_json_loading_and_errors(tmp_path: Path) -> None:
    template = tmp_path / "pull_request_template.md"
    template.write_text(TEMPLATE)
    good = tmp_path / "pr.json"
    good.write_text(json.dumps({"body": FILLED, "commits": [
        {"sha": "a" * 40, "message": "m", "author_name": "A", "author_email": "a@example.com"}]}))
    loaded = PullRequest.load(good, template)
    assert loaded.template == TEMPLATE and loaded.commits[0].author_email == "a@example.com"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"body": "x", "commits": [{"sha": "a", "message": "m", "author_name": "A"}]}))
    with pytest.raises(PrError, match=r"commits\[0\]\.author_email must be a string"):
        PullRequest.load(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(PrError, match="not valid JSON"):
        PullRequest.load(broken)
