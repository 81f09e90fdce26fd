"""Render the emulator's state as the JSON GitHub returns, field for field of the REST description.

Every builder takes the `Urls` of the running server, so `url` fields point back at the emulator
(clients such as PyGithub follow them) and `html_url` fields at a github.com-like page.
"""

from __future__ import annotations

import base64
import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.emulator.gitstore import Commit
from tests.emulator.state import (
    Account,
    App,
    CheckRun,
    Comment,
    Installation,
    Issue,
    IssueEvent,
    Label,
    Pull,
    Repo,
    Review,
    Status,
    World,
)

# GitHub leaves `patch` out of a file entry when the diff is too large to show; the exact limit is
# not documented, so the emulator uses this size (a test can change it through the control API).
DEFAULT_PATCH_LIMIT = 64 * 1024


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Urls:
    """Where the emulated API and its web pages live."""

    api: str
    html: str = "https://github.com"


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def user(urls: Urls, account: Account) -> dict[str, Any]:
    base = f"{urls.api}/users/{account.login}"
    return {
        "login": account.login, "id": account.id, "node_id": node_id(account.type, account.id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{account.id}?v=4", "gravatar_id": "",
        "url": base, "html_url": f"{urls.html}/{account.login}", "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}", "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs", "repos_url": f"{base}/repos", "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events", "type": account.type, "site_admin": False,
        "user_view_type": "public",
    }


_REPO_TEMPLATED = {
    "archive_url": "/{archive_format}{/ref}", "assignees_url": "/assignees{/user}", "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}", "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}", "commits_url": "/commits{/sha}", "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}", "contributors_url": "/contributors", "deployments_url": "/deployments",
    "downloads_url": "/downloads", "events_url": "/events", "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}", "git_tags_url": "/git/tags{/sha}", "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}", "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}", "keys_url": "/keys{/key_id}", "labels_url": "/labels{/name}",
    "languages_url": "/languages", "merges_url": "/merges", "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}", "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}", "stargazers_url": "/stargazers", "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers", "subscription_url": "/subscription", "tags_url": "/tags",
    "teams_url": "/teams", "trees_url": "/git/trees{/sha}",
}


def repo_url(urls: Urls, repo: Repo) -> str:
    return f"{urls.api}/repos/{repo.full_name}"


def repository(urls: Urls, world: World, repo: Repo) -> dict[str, Any]:
    """A `full-repository`, which also satisfies `repository` and `minimal-repository`."""
    base = repo_url(urls, repo)
    open_issues = sum(1 for issue in repo.issues.values() if issue.state == "open")
    pushed = max((c.committer.date for c in repo.git.commits.values()), default=repo.created_at)
    return {
        "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name, "full_name": repo.full_name,
        "owner": user(urls, world.account(repo.owner)), "private": repo.private,
        "visibility": "private" if repo.private else "public", "html_url": f"{urls.html}/{repo.full_name}",
        "description": None, "fork": False, "url": base,
        **{key: base + suffix for key, suffix in _REPO_TEMPLATED.items()},
        "git_url": f"git://github.com/{repo.full_name}.git", "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"{urls.html}/{repo.full_name}.git", "svn_url": f"{urls.html}/{repo.full_name}",
        "mirror_url": None, "homepage": None, "language": None, "size": len(repo.git.blobs),
        "forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0,
        "open_issues": open_issues, "open_issues_count": open_issues, "default_branch": repo.default_branch,
        "has_issues": True, "has_projects": True, "has_wiki": True, "has_pages": False, "has_downloads": True,
        "has_discussions": False, "archived": False, "disabled": False, "license": None, "topics": [],
        "is_template": False, "allow_forking": True, "web_commit_signoff_required": False,
        "pushed_at": iso(pushed), "created_at": iso(repo.created_at), "updated_at": iso(pushed),
        "network_count": 0, "subscribers_count": 0,
    }


def label(urls: Urls, repo: Repo, item: Label) -> dict[str, Any]:
    return {"id": item.id, "node_id": node_id("Label", item.id), "url": f"{repo_url(urls, repo)}/labels/{item.name}",
            "name": item.name, "description": item.description, "color": item.color, "default": item.default}


def author_association(world: World, repo: Repo, login: str) -> str:
    """How LOGIN relates to REPO, as GitHub labels authors."""
    if login == repo.owner:
        return "OWNER"
    if any(team.org == repo.owner and login in team.members for team in world.teams.values()):
        return "MEMBER"
    if login in repo.collaborators:
        return "COLLABORATOR"
    authors = [repo.issues[p.number].user for p in repo.pulls.values() if p.merged]
    return "CONTRIBUTOR" if login in authors else "NONE"


def issue(urls: Urls, world: World, repo: Repo, item: Issue) -> dict[str, Any]:
    base = f"{repo_url(urls, repo)}/issues/{item.number}"
    body: dict[str, Any] = {
        "id": item.id, "node_id": node_id("Issue", item.id), "url": base, "repository_url": repo_url(urls, repo),
        "labels_url": f"{base}/labels{{/name}}", "comments_url": f"{base}/comments", "events_url": f"{base}/events",
        "html_url": f"{urls.html}/{repo.full_name}/issues/{item.number}", "number": item.number,
        "state": item.state, "state_reason": None, "title": item.title, "body": item.body,
        "user": user(urls, world.account(item.user)),
        "labels": [label(urls, repo, repo.labels[name.lower()]) for name in item.labels],
        "assignee": None, "assignees": [], "milestone": None, "locked": False, "active_lock_reason": None,
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == item.number),
        "closed_at": iso(item.closed_at), "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
        "closed_by": None, "author_association": author_association(world, repo, item.user),
    }
    if item.number in repo.pulls:
        pull = repo.pulls[item.number]
        pull_base = f"{repo_url(urls, repo)}/pulls/{item.number}"
        body["html_url"] = f"{urls.html}/{repo.full_name}/pull/{item.number}"
        body["pull_request"] = {"url": pull_base, "html_url": body["html_url"], "diff_url": f"{body['html_url']}.diff",
                                "patch_url": f"{body['html_url']}.patch", "merged_at": iso(pull.merged_at)}
    return body


def _pull_ref(urls: Urls, world: World, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {"label": f"{repo.owner}:{ref}", "ref": ref, "sha": sha, "user": user(urls, world.account(repo.owner)),
            "repo": repository(urls, world, repo)}


def pull_request(urls: Urls, world: World, repo: Repo, pull: Pull, full: bool = True) -> dict[str, Any]:
    """A `pull-request` (FULL) or the `pull-request-simple` of list endpoints."""
    item = repo.issue(pull.number)
    base = f"{repo_url(urls, repo)}/pulls/{pull.number}"
    html = f"{urls.html}/{repo.full_name}/pull/{pull.number}"
    issue_url = f"{repo_url(urls, repo)}/issues/{pull.number}"
    head_sha = repo.head_sha(pull)
    body: dict[str, Any] = {
        "url": base, "id": pull.id, "node_id": node_id("PullRequest", pull.id), "html_url": html,
        "diff_url": f"{html}.diff", "patch_url": f"{html}.patch", "issue_url": issue_url,
        "commits_url": f"{base}/commits", "review_comments_url": f"{base}/comments",
        "review_comment_url": f"{repo_url(urls, repo)}/pulls/comments{{/number}}",
        "comments_url": f"{issue_url}/comments", "statuses_url": f"{repo_url(urls, repo)}/statuses/{head_sha}",
        "number": pull.number, "state": item.state, "locked": False, "title": item.title,
        "user": user(urls, world.account(item.user)), "body": item.body,
        "labels": [label(urls, repo, repo.labels[name.lower()]) for name in item.labels],
        "milestone": None, "active_lock_reason": None, "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at), "closed_at": iso(item.closed_at), "merged_at": iso(pull.merged_at),
        "merge_commit_sha": pull.merge_commit_sha, "assignee": None, "assignees": [],
        "requested_reviewers": [user(urls, world.account(login)) for login in pull.requested_reviewers],
        "requested_teams": [], "head": _pull_ref(urls, world, repo, pull.head_ref, head_sha),
        "base": _pull_ref(urls, world, repo, pull.base_ref, repo.branches[pull.base_ref]),
        "_links": {name: {"href": href} for name, href in {
            "self": base, "html": html, "issue": issue_url, "comments": f"{issue_url}/comments",
            "review_comments": f"{base}/comments",
            "review_comment": f"{repo_url(urls, repo)}/pulls/comments{{/number}}",
            "commits": f"{base}/commits", "statuses": f"{repo_url(urls, repo)}/statuses/{head_sha}"}.items()},
        "author_association": author_association(world, repo, item.user), "auto_merge": None, "draft": pull.draft,
    }
    if not full:
        return body
    entries = diff_entries(urls, repo, repo.merge_base(pull), head_sha, patch_limit=None)
    mergeable = None if pull.merged or item.state == "closed" else repo.mergeable(pull)
    body.update({
        "merged": pull.merged, "mergeable": mergeable, "rebaseable": mergeable,
        "mergeable_state": "clean" if mergeable else ("dirty" if mergeable is False else "unknown"),
        "merged_by": user(urls, world.account(pull.merged_by)) if pull.merged_by else None,
        "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
        "review_comments": 0, "maintainer_can_modify": False,
        "commits": len(pull_commits(repo, pull)),
        "additions": sum(e["additions"] for e in entries), "deletions": sum(e["deletions"] for e in entries),
        "changed_files": len(entries),
    })
    return body


def pull_commits(repo: Repo, pull: Pull) -> list[Commit]:
    """The PR's commits, oldest first: reachable from the head and not from the base branch."""
    on_base = set(repo.git.ancestors(repo.branches[pull.base_ref]))
    if pull.merged and pull.merge_commit_sha:
        on_base = set(repo.git.ancestors(repo.git.commits[pull.merge_commit_sha].parents[0]))
    return [repo.git.commits[sha] for sha in reversed(repo.git.ancestors(repo.head_sha(pull))) if sha not in on_base]


def diff_entries(urls: Urls, repo: Repo, base_sha: str, head_sha: str,
                 patch_limit: int | None = DEFAULT_PATCH_LIMIT) -> list[dict[str, Any]]:
    """The `diff-entry` list between two commits, sorted by path; no `patch` past PATCH_LIMIT bytes or for binaries."""
    before = repo.git.commits[base_sha].files
    after = repo.git.commits[head_sha].files
    entries = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "modified"
        old_text = repo.git.blobs[old] if old else b""
        new_text = repo.git.blobs[new] if new else b""
        binary = b"\0" in old_text or b"\0" in new_text
        lines = [] if binary else list(difflib.unified_diff(
            old_text.decode(errors="replace").splitlines(), new_text.decode(errors="replace").splitlines(),
            lineterm="", n=3))[2:]
        additions = sum(1 for line in lines if line.startswith("+"))
        deletions = sum(1 for line in lines if line.startswith("-"))
        sha = new or old
        ref = head_sha if new else base_sha
        entry: dict[str, Any] = {
            "sha": sha, "filename": path, "status": status, "additions": additions, "deletions": deletions,
            "changes": additions + deletions, "blob_url": f"{urls.html}/{repo.full_name}/blob/{ref}/{path}",
            "raw_url": f"{urls.html}/{repo.full_name}/raw/{ref}/{path}",
            "contents_url": f"{repo_url(urls, repo)}/contents/{path}?ref={ref}",
        }
        patch = "\n".join(lines)
        if not binary and (patch_limit is None or len(patch.encode()) <= patch_limit):
            entry["patch"] = patch
        entries.append(entry)
    return entries


def git_user(person: Any) -> dict[str, Any]:
    return {"name": person.name, "email": person.email, "date": iso(person.date)}


def commit(urls: Urls, world: World, repo: Repo, item: Commit, with_files: bool = False) -> dict[str, Any]:
    """A `commit`; WITH_FILES adds `stats` and `files` against the first parent, as GET /commits/{ref} does."""
    base = f"{repo_url(urls, repo)}/commits/{item.sha}"

    def account_of(email: str) -> dict[str, Any] | None:
        login = next((a.login for a in world.accounts.values()
                      if email in (a.email, f"{a.login}@users.noreply.github.com")), None)
        return user(urls, world.account(login)) if login else None

    body: dict[str, Any] = {
        "sha": item.sha, "node_id": node_id("Commit", int(item.sha[:7], 16)), "url": base,
        "html_url": f"{urls.html}/{repo.full_name}/commit/{item.sha}", "comments_url": f"{base}/comments",
        "commit": {
            "url": f"{repo_url(urls, repo)}/git/commits/{item.sha}", "author": git_user(item.author),
            "committer": git_user(item.committer), "message": item.message, "comment_count": 0,
            "tree": {"sha": item.tree, "url": f"{repo_url(urls, repo)}/git/trees/{item.tree}"},
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                             "verified_at": None},
        },
        "author": account_of(item.author.email), "committer": account_of(item.committer.email),
        "parents": [{"sha": p, "url": f"{repo_url(urls, repo)}/commits/{p}",
                     "html_url": f"{urls.html}/{repo.full_name}/commit/{p}"} for p in item.parents],
    }
    if with_files:
        empty = repo.git.commit_snapshot({}, (), "", item.author).sha if not item.parents else item.parents[0]
        files = diff_entries(urls, repo, empty, item.sha)
        additions = sum(f["additions"] for f in files)
        deletions = sum(f["deletions"] for f in files)
        body["stats"] = {"additions": additions, "deletions": deletions, "total": additions + deletions}
        body["files"] = files
    return body


def comparison(urls: Urls, world: World, repo: Repo, base: Commit, head: Commit) -> dict[str, Any]:
    merge_base = repo.git.merge_base(base.sha, head.sha) or base.sha
    ahead = [sha for sha in repo.git.ancestors(head.sha) if sha not in set(repo.git.ancestors(merge_base))]
    behind = [sha for sha in repo.git.ancestors(base.sha) if sha not in set(repo.git.ancestors(merge_base))]
    status = ("identical" if not ahead and not behind else "ahead" if not behind
              else "behind" if not ahead else "diverged")
    spec = f"{base.sha}...{head.sha}"
    return {
        "url": f"{repo_url(urls, repo)}/compare/{spec}", "html_url": f"{urls.html}/{repo.full_name}/compare/{spec}",
        "permalink_url": f"{urls.html}/{repo.full_name}/compare/{spec}",
        "diff_url": f"{urls.html}/{repo.full_name}/compare/{spec}.diff",
        "patch_url": f"{urls.html}/{repo.full_name}/compare/{spec}.patch",
        "base_commit": commit(urls, world, repo, base),
        "merge_base_commit": commit(urls, world, repo, repo.git.commits[merge_base]),
        "status": status, "ahead_by": len(ahead), "behind_by": len(behind), "total_commits": len(ahead),
        "commits": [commit(urls, world, repo, repo.git.commits[sha]) for sha in reversed(ahead)],
        "files": diff_entries(urls, repo, merge_base, head.sha),
    }


def content_entry(urls: Urls, repo: Repo, ref: str, path: str, kind: str, sha: str, size: int) -> dict[str, Any]:
    self_url = f"{repo_url(urls, repo)}/contents/{path}?ref={ref}"
    git_url = f"{repo_url(urls, repo)}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
    html_url = f"{urls.html}/{repo.full_name}/{'blob' if kind == 'file' else 'tree'}/{ref}/{path}"
    return {"type": kind, "size": size, "name": path.rsplit("/", 1)[-1], "path": path, "sha": sha, "url": self_url,
            "git_url": git_url, "html_url": html_url,
            "download_url": f"{urls.html}/{repo.full_name}/raw/{ref}/{path}" if kind == "file" else None,
            "_links": {"self": self_url, "git": git_url, "html": html_url}}


def encode_content(data: bytes) -> str:
    """Base64 in lines, as GitHub sends file and blob content."""
    return base64.encodebytes(data).decode()


def tree(urls: Urls, repo: Repo, sha: str, recursive: bool) -> dict[str, Any]:
    listed = repo.git.walk_tree(sha) if recursive else [(e.name, e) for e in repo.git.trees[sha]]
    entries = []
    for path, entry in listed:
        item = {"path": path, "mode": entry.mode, "type": entry.type, "sha": entry.sha}
        if entry.type != "commit":  # a submodule's commit lives in another repository: no url, no size
            item["url"] = f"{repo_url(urls, repo)}/git/{entry.type}s/{entry.sha}"
        if entry.type == "blob":
            item["size"] = len(repo.git.blobs[entry.sha])
        entries.append(item)
    return {"sha": sha, "url": f"{repo_url(urls, repo)}/git/trees/{sha}", "tree": entries, "truncated": False}


def blob(urls: Urls, repo: Repo, sha: str) -> dict[str, Any]:
    data = repo.git.blobs[sha]
    return {"sha": sha, "node_id": node_id("Blob", int(sha[:7], 16)), "size": len(data),
            "url": f"{repo_url(urls, repo)}/git/blobs/{sha}", "content": encode_content(data), "encoding": "base64"}


def integration(urls: Urls, world: World, app: App) -> dict[str, Any]:
    return {"id": app.id, "slug": app.slug, "node_id": node_id("App", app.id),
            "owner": user(urls, world.account(app.owner)), "name": app.name, "description": None,
            "external_url": f"https://{app.slug}.example.org", "html_url": f"{urls.html}/apps/{app.slug}",
            "created_at": iso(app.created_at), "updated_at": iso(app.created_at),
            "permissions": dict(app.permissions), "events": list(app.events)}


def installation(urls: Urls, world: World, item: Installation) -> dict[str, Any]:
    app = world.apps[item.app_id]
    account = world.account(item.account)
    return {
        "id": item.id, "account": user(urls, account), "app_id": app.id, "app_slug": app.slug,
        "target_id": account.id, "target_type": account.type, "client_id": f"Iv1.{app.id:016x}",
        "repository_selection": "all" if item.repositories is None else "selected",
        "access_tokens_url": f"{urls.api}/app/installations/{item.id}/access_tokens",
        "repositories_url": f"{urls.api}/installation/repositories",
        "html_url": f"{urls.html}/settings/installations/{item.id}", "events": list(app.events),
        "permissions": dict(app.permissions), "single_file_name": None, "has_multiple_single_files": False,
        "single_file_paths": [], "created_at": iso(item.created_at), "updated_at": iso(item.created_at),
        "suspended_by": None, "suspended_at": None,
    }


def comment(urls: Urls, world: World, repo: Repo, item: Comment) -> dict[str, Any]:
    url = f"{repo_url(urls, repo)}/issues/comments/{item.id}"
    kind = "pull" if item.issue_number in repo.pulls else "issues"
    return {
        "id": item.id, "node_id": node_id("IssueComment", item.id), "url": url,
        "html_url": f"{urls.html}/{repo.full_name}/{kind}/{item.issue_number}#issuecomment-{item.id}",
        "body": item.body, "user": user(urls, world.account(item.user)),
        "created_at": iso(item.created_at), "updated_at": iso(item.updated_at),
        "issue_url": f"{repo_url(urls, repo)}/issues/{item.issue_number}",
        "author_association": author_association(world, repo, item.user),
        "performed_via_github_app": (integration(urls, world, world.apps[item.performed_via_app])
                                     if item.performed_via_app else None),
    }


def _pull_minimal(urls: Urls, repo: Repo, pull: Pull) -> dict[str, Any]:
    small_repo = {"id": repo.id, "url": repo_url(urls, repo), "name": repo.name}
    return {"id": pull.id, "number": pull.number, "url": f"{repo_url(urls, repo)}/pulls/{pull.number}",
            "head": {"ref": pull.head_ref, "sha": repo.head_sha(pull), "repo": small_repo},
            "base": {"ref": pull.base_ref, "sha": repo.branches[pull.base_ref], "repo": small_repo}}


def check_run(urls: Urls, world: World, repo: Repo, run: CheckRun) -> dict[str, Any]:
    url = f"{repo_url(urls, repo)}/check-runs/{run.id}"
    pulls = [p for p in repo.pulls.values()
             if repo.issues[p.number].state == "open" and repo.head_sha(p) == run.head_sha]
    return {
        "id": run.id, "node_id": node_id("CheckRun", run.id), "head_sha": run.head_sha, "external_id": run.external_id,
        "url": url, "html_url": f"{urls.html}/{repo.full_name}/runs/{run.id}", "details_url": run.details_url,
        "status": run.status, "conclusion": run.conclusion, "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at), "name": run.name, "check_suite": {"id": run.suite_id},
        "output": {"title": run.output.get("title"), "summary": run.output.get("summary"),
                   "text": run.output.get("text"), "annotations_count": len(run.annotations),
                   "annotations_url": f"{url}/annotations"},
        "app": integration(urls, world, world.apps[run.app_id]),
        "pull_requests": [_pull_minimal(urls, repo, p) for p in pulls],
    }


def annotation(urls: Urls, repo: Repo, run: CheckRun, item: dict[str, Any]) -> dict[str, Any]:
    return {"path": item["path"], "blob_href": f"{urls.html}/{repo.full_name}/blob/{run.head_sha}/{item['path']}",
            "start_line": item["start_line"], "end_line": item["end_line"],
            "start_column": item.get("start_column"), "end_column": item.get("end_column"),
            "annotation_level": item["annotation_level"], "title": item.get("title"), "message": item["message"],
            "raw_details": item.get("raw_details")}


def status(urls: Urls, world: World, repo: Repo, item: Status) -> dict[str, Any]:
    creator = world.account(item.creator)
    return {"url": f"{repo_url(urls, repo)}/statuses/{item.sha}", "avatar_url": user(urls, creator)["avatar_url"],
            "id": item.id, "node_id": node_id("StatusContext", item.id), "state": item.state,
            "description": item.description, "target_url": item.target_url, "context": item.context,
            "created_at": iso(item.created_at), "updated_at": iso(item.created_at), "creator": user(urls, creator)}


def combined_status(urls: Urls, world: World, repo: Repo, sha: str) -> dict[str, Any]:
    """The latest status per context and their combined state, as GitHub combines them."""
    latest: dict[str, Status] = {}
    for item in repo.statuses:
        if item.sha == sha:
            latest[item.context] = item
    states = {item.state for item in latest.values()}
    state = ("failure" if states & {"error", "failure"} else "pending" if not states or "pending" in states
             else "success")
    statuses = []
    for item in latest.values():
        full = status(urls, world, repo, item)
        statuses.append({key: value for key, value in full.items() if key != "creator"})
    return {"state": state, "statuses": statuses, "sha": sha, "total_count": len(statuses),
            "repository": repository(urls, world, repo), "commit_url": f"{repo_url(urls, repo)}/commits/{sha}",
            "url": f"{repo_url(urls, repo)}/commits/{sha}/status"}


def review(urls: Urls, world: World, repo: Repo, item: Review) -> dict[str, Any]:
    pull_url = f"{repo_url(urls, repo)}/pulls/{item.pull_number}"
    html = f"{urls.html}/{repo.full_name}/pull/{item.pull_number}#pullrequestreview-{item.id}"
    return {"id": item.id, "node_id": node_id("PullRequestReview", item.id),
            "user": user(urls, world.account(item.user)),
            "body": item.body, "state": item.state, "html_url": html, "pull_request_url": pull_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": iso(item.submitted_at), "commit_id": item.commit_id,
            "author_association": author_association(world, repo, item.user)}


def issue_event(urls: Urls, world: World, repo: Repo, item: IssueEvent) -> dict[str, Any]:
    commit_url = f"{repo_url(urls, repo)}/commits/{item.commit_id}" if item.commit_id else None
    kind = "".join(part.title() for part in item.event.split("_")) + "Event"  # e.g. HeadRefForcePushedEvent
    return {"id": item.id, "node_id": node_id(kind, item.id),
            "url": f"{repo_url(urls, repo)}/issues/events/{item.id}", "actor": user(urls, world.account(item.actor)),
            "event": item.event, "commit_id": item.commit_id, "commit_url": commit_url,
            "created_at": iso(item.created_at), "performed_via_github_app": None}


def error(message: str, status_code: int, **extra: Any) -> dict[str, Any]:
    """GitHub's error body: a message and where to read about it."""
    return {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status_code),
            **extra}
