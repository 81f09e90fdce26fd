"""PyGithub, as the bot uses it (a GitHub App with installation tokens), works against the emulator."""

from __future__ import annotations

from github import Auth, Github, GithubIntegration

from tests.emulator.plugin import GitHubApp
from tests.emulator_tests.helpers import REPO, seed


def github_for(url: str, app: GitHubApp) -> Github:
    auth = Auth.AppAuth(app.app_id, app.private_key_pem).get_installation_auth(app.installation_id)
    # PyGithub waits 0.25 s between calls and 1 s between writes by default: not needed on loopback.
    return Github(base_url=url, auth=auth, seconds_between_requests=0, seconds_between_writes=0)


def test_pygithub_app_creates_a_check_run_a_comment_and_a_label(github_emulator, github_app) -> None:
    pull_seeded = seed(github_emulator)
    integration = GithubIntegration(base_url=github_emulator.api_url, auth=Auth.AppAuth(github_app.app_id,
                                                                                        github_app.private_key_pem))
    assert integration.get_repo_installation("octo-org", "taxonomy").id == github_app.installation_id

    gh = github_for(github_emulator.api_url, github_app)
    repo = gh.get_repo(REPO)
    pull = repo.get_pull(1)
    assert pull.head.sha == pull_seeded["head"]["sha"] and pull.user.login == "alice"
    files = list(pull.get_files())
    assert [f.filename for f in files] == ["compositional_skills/writing/limerick/qna.yaml"]
    content = repo.get_contents(files[0].filename, ref=pull.head.sha)
    assert content.decoded_content == b"version: 3\n"

    run = repo.create_check_run(name="taxonomist/triage", head_sha=pull.head.sha, status="in_progress")
    run.edit(conclusion="failure", output={"title": "Triage", "summary": "1 error", "annotations": [
        {"path": files[0].filename, "start_line": 1, "end_line": 1, "annotation_level": "failure",
         "message": "missing seed_examples"}]})
    comment = pull.as_issue().create_comment("<!-- taxonomist:triage -->\n1 error")
    comment.edit("<!-- taxonomist:triage -->\nfixed")
    pull.add_to_labels("skill")

    state = github_emulator.state(REPO)
    assert [(r["name"], r["conclusion"], len(r["annotations"])) for r in state["check_runs"]] == [
        ("taxonomist/triage", "failure", 1)]
    assert [(c["user"]["login"], c["body"]) for c in state["comments"]] == [
        (github_app.bot_login, "<!-- taxonomist:triage -->\nfixed")]
    assert state["labels"]["1"] == ["skill"]
    assert github_emulator.calls(method="POST")[0]["path"].startswith("/app/installations/")


def test_pygithub_retries_a_502_and_reads_through_pages(github_emulator, github_app) -> None:
    seed(github_emulator, files={f"knowledge/t/leaf{i:02d}/qna.yaml": "x: 1\n" for i in range(45)})
    github_emulator.inject_fault("status", method="GET", path=f"/repos/{REPO}/pulls/1", status=502, times=1)
    gh = github_for(github_emulator.api_url, github_app)
    pull = gh.get_repo(REPO).get_pull(1)
    assert len(list(pull.get_files())) == 45
    statuses = [c["status"] for c in github_emulator.calls(method="GET", path="/pulls/1")]
    assert statuses[:2] == [502, 200]
    assert len(github_emulator.calls(path="/pulls/1/files")) == 2  # 30 + 15, following the Link header


def test_pygithub_waits_out_a_secondary_rate_limit_and_retries(github_emulator, github_app) -> None:
    seed(github_emulator)
    github_emulator.inject_fault("secondary_rate_limit", method="POST", path="*/comments", retry_after=1, times=1)
    gh = github_for(github_emulator.api_url, github_app)
    gh.get_repo(REPO).get_issue(1).create_comment("hello")
    posts = github_emulator.calls(method="POST", path="/issues/1/comments")
    assert [(c["status"], c["fault"]) for c in posts] == [(403, "secondary_rate_limit"), (201, None)]
    assert [c["body"] for c in github_emulator.state(REPO)["comments"]] == ["hello"]
