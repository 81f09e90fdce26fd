"""Pull requests, their files and commits, merging, and the content APIs."""

from __future__ import annotations

import base64
import re

from tests.emulator_tests.helpers import REPO, SKILL, Api, seed


def test_pull_request_reports_head_base_and_changes(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    got = api.get(f"/repos/{REPO}/pulls/1").json()
    assert got["head"]["sha"] == pull["head"]["sha"] and got["base"]["ref"] == "main"
    assert got["user"]["login"] == "alice" and got["changed_files"] == 1 and got["commits"] == 1
    assert got["mergeable"] is True and got["state"] == "open"
    listed = api.get(f"/repos/{REPO}/pulls", params={"state": "open"}).json()
    assert [p["number"] for p in listed] == [1]
    assert api.get(f"/repos/{REPO}/pulls/99").status_code == 404


def test_pull_files_are_paginated_30_by_default_100_at_most_with_link_headers(github_emulator, github_app) -> None:
    files = {f"knowledge/topic/leaf{i:03d}/qna.yaml": f"n: {i}\n" for i in range(120)}
    seed(github_emulator, files=files)
    api = Api(github_emulator, github_app)
    first = api.get(f"/repos/{REPO}/pulls/1/files")
    assert len(first.json()) == 30
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"]))
    assert set(links) == {"next", "last"} and "page=4" in links["last"]
    second = api.call("GET", links["next"].removeprefix(api.base))
    assert second.json()[0]["filename"] == "knowledge/topic/leaf030/qna.yaml"
    assert 'rel="prev"' in second.headers["Link"]
    assert len(api.get(f"/repos/{REPO}/pulls/1/files", params={"per_page": 500}).json()) == 100


def test_patch_is_left_out_for_large_diffs(github_emulator, github_app) -> None:
    seed(github_emulator, files={"small.yaml": "a: 1\n", "large.yaml": "line\n" * 400})
    github_emulator.settings(patch_limit=1000)
    api = Api(github_emulator, github_app)
    entries = {e["filename"]: e for e in api.get(f"/repos/{REPO}/pulls/1/files").json()}
    assert entries["small.yaml"]["patch"] == "@@ -0,0 +1 @@\n+a: 1"
    assert "patch" not in entries["large.yaml"] and entries["large.yaml"]["additions"] == 400


def test_pushing_to_the_pr_moves_its_head_and_adds_a_commit(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    pushed = github_emulator.push_to_pull(REPO, 1, {"compositional_skills/writing/limerick/qna.yaml": "version: 2\n",
                                                    "README.md": None}, message="Fix", author="alice")
    assert pushed["before"] == pull["head"]["sha"]
    api = Api(github_emulator, github_app)
    assert api.get(f"/repos/{REPO}/pulls/1").json()["head"]["sha"] == pushed["sha"]
    commits = api.get(f"/repos/{REPO}/pulls/1/commits").json()
    assert [c["commit"]["message"] for c in commits] == ["Add a skill", "Fix"]
    statuses = {e["filename"]: e["status"] for e in api.get(f"/repos/{REPO}/pulls/1/files").json()}
    assert statuses == {"README.md": "removed", "compositional_skills/writing/limerick/qna.yaml": "added"}


def test_merge_pins_the_head_sha(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    github_emulator.push_to_pull(REPO, 1, {"extra.txt": "x\n"})
    stale = api.call("PUT", f"/repos/{REPO}/pulls/1/merge", json={"sha": pull["head"]["sha"]})
    assert stale.status_code == 409
    head = api.get(f"/repos/{REPO}/pulls/1").json()["head"]["sha"]
    merged = api.call("PUT", f"/repos/{REPO}/pulls/1/merge", json={"sha": head, "merge_method": "squash"})
    assert merged.status_code == 200 and merged.json()["merged"] is True
    state = github_emulator.state(REPO)
    assert state["merges"] == [{"pull_number": 1, "sha": merged.json()["sha"], "head_sha": head,
                                "merge_method": "squash", "merged_by": "taxonomist[bot]"}]
    assert state["branches"]["main"] == merged.json()["sha"]
    assert api.get(f"/repos/{REPO}/contents/extra.txt").status_code == 200
    again = api.call("PUT", f"/repos/{REPO}/pulls/1/merge", json={"sha": head})
    assert again.status_code == 405


def test_unmergeable_pull_requests_get_405(github_emulator, github_app) -> None:
    seed(github_emulator, files={SKILL: "version: 3\ntask_description: theirs\n"})
    github_emulator.push(REPO, {SKILL: "version: 3\ntask_description: ours\n"}, branch="main")
    api = Api(github_emulator, github_app)
    assert api.get(f"/repos/{REPO}/pulls/1").json()["mergeable"] is False
    answer = api.call("PUT", f"/repos/{REPO}/pulls/1/merge", json={})
    assert answer.status_code == 405 and answer.json()["message"] == "Pull Request is not mergeable"


def test_contents_at_a_ref_are_base64_and_missing_files_404(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    head = pull["head"]["sha"]
    got = api.get(f"/repos/{REPO}/contents/compositional_skills/writing/limerick/qna.yaml", params={"ref": head})
    assert got.status_code == 200 and base64.b64decode(got.json()["content"]) == b"version: 3\n"
    raw = api.get(f"/repos/{REPO}/contents/{SKILL}", headers={"Accept": "application/vnd.github.raw+json"})
    assert raw.content == b"version: 3\ntask_description: haiku\n"
    assert api.get(f"/repos/{REPO}/contents/compositional_skills/writing/limerick/qna.yaml").status_code == 404
    listing = api.get(f"/repos/{REPO}/contents/compositional_skills/writing", params={"ref": head}).json()
    assert [(e["name"], e["type"]) for e in listing] == [("haiku", "dir"), ("limerick", "dir")]


def test_contents_refuse_files_over_1_mb_which_the_blob_api_serves(github_emulator, github_app) -> None:
    big = {"base64": base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()}
    seed(github_emulator, files={"big.bin": big})
    api = Api(github_emulator, github_app)
    refused = api.get(f"/repos/{REPO}/contents/big.bin", params={"ref": "alice/new-skill"})
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "too_large"
    head = github_emulator.pull(REPO, 1)["pull_request"]["head"]["sha"]
    entries = {e["path"]: e for e in api.get(f"/repos/{REPO}/git/trees/{head}", params={"recursive": 1}).json()["tree"]}
    assert entries["compositional_skills/writing"]["type"] == "tree"
    blob = api.get(f"/repos/{REPO}/git/blobs/{entries['big.bin']['sha']}").json()
    assert blob["size"] == 1024 * 1024 + 1 and len(base64.b64decode(blob["content"])) == blob["size"]


def test_commit_and_compare_list_the_changed_files(github_emulator, github_app) -> None:
    pull = seed(github_emulator)
    api = Api(github_emulator, github_app)
    head = pull["head"]["sha"]
    commit = api.get(f"/repos/{REPO}/commits/{head}").json()
    assert [f["filename"] for f in commit["files"]] == ["compositional_skills/writing/limerick/qna.yaml"]
    assert commit["commit"]["author"]["name"] == "alice"
    compared = api.get(f"/repos/{REPO}/compare/main...{head}").json()
    assert compared["status"] == "ahead" and compared["ahead_by"] == 1 and len(compared["files"]) == 1


def test_merge_combines_a_base_that_moved_on_and_refuses_drafts(github_emulator, github_app) -> None:
    seed(github_emulator)
    github_emulator.push(REPO, {"CONTRIBUTING.md": "Be kind.\n"}, branch="main")
    api = Api(github_emulator, github_app)
    github_emulator.edit_pull(REPO, 1, draft=True)
    draft = api.call("PUT", f"/repos/{REPO}/pulls/1/merge", json={})
    assert draft.status_code == 405 and draft.json()["message"] == "Pull Request is still a draft"
    github_emulator.edit_pull(REPO, 1, draft=False)
    merged = api.call("PUT", f"/repos/{REPO}/pulls/1/merge", json={})
    assert merged.status_code == 200
    tree = api.get(f"/repos/{REPO}/git/trees/main", params={"recursive": 1}).json()
    paths = {e["path"] for e in tree["tree"] if e["type"] == "blob"}
    assert {"CONTRIBUTING.md", "compositional_skills/writing/limerick/qna.yaml", SKILL, "README.md"} == paths
    merge_commit = api.get(f"/repos/{REPO}/commits/main").json()
    assert len(merge_commit["parents"]) == 2 and merge_commit["commit"]["message"].startswith("Merge pull request #1")


def test_pr_commits_carry_their_author_and_message_for_dco(github_emulator, github_app) -> None:
    github_emulator.add_user("sam", name="Sam Contributor", email="sam@example.org")
    github_emulator.create_repo(REPO, {"README.md": "x\n"})
    github_emulator.open_pull(REPO, "sam/skill", files={"a.yaml": "a: 1\n"}, user="sam",
                              message="Add a skill\n\nSigned-off-by: Sam Contributor <sam@example.org>")
    commit = Api(github_emulator, github_app).get(f"/repos/{REPO}/pulls/1/commits").json()[0]
    assert commit["commit"]["author"] == {**commit["commit"]["author"], "name": "Sam Contributor",
                                          "email": "sam@example.org"}
    assert commit["commit"]["message"].endswith("Signed-off-by: Sam Contributor <sam@example.org>")
    assert commit["author"]["login"] == "sam"
