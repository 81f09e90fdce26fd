"""GitHub's REST endpoints a triage and review bot calls, with GitHub's statuses and shapes."""

from __future__ import annotations

import posixpath
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.emulator import hooks, shapes
from tests.emulator.gitstore import SUBMODULE, SYMLINK
from tests.emulator.routing import ApiError, Ctx, Reply, paginate, route
from tests.emulator.state import CheckRun, Comment, Conflict, Label, NotFound, Review, Status, Token, now

CONTENT_LIMIT = 1024 * 1024  # the contents API returns JSON content for files up to 1 MB
BLOB_LIMIT = 100 * 1024 * 1024
MAX_ANNOTATIONS = 50
MAX_PULL_FILES = 3000
MAX_PULL_COMMITS = 250


def _app(ctx: Ctx) -> Any:
    if ctx.app is None:
        raise ApiError(401, "A JSON web token could not be decoded")
    return ctx.app


# --- app authentication ------------------------------------------------------------------------

@route("GET", "/app", auth="app")
def get_app(ctx: Ctx) -> Reply:
    return Reply(200, shapes.integration(ctx.urls, ctx.world, _app(ctx)))


def _installations_of(ctx: Ctx) -> list[Any]:
    return [i for i in ctx.world.installations.values() if i.app_id == _app(ctx).id]


@route("GET", "/app/installations", auth="app")
def list_installations(ctx: Ctx) -> Reply:
    """GitHub's description types this list's `account` as user *and* enterprise (`allOf`, where the single
    installation has `anyOf`): each account here also carries the enterprise's required fields."""
    page, headers = paginate(ctx, _installations_of(ctx))
    items = [shapes.installation(ctx.urls, ctx.world, i) for i in page]
    for item in items:
        account = item["account"]
        account.update(name=account.get("name") or account["login"], slug=account["login"],
                       created_at=item["created_at"], updated_at=item["updated_at"])
    return Reply(200, items, headers)


def _installation(ctx: Ctx, installation_id: int) -> Any:
    found = next((i for i in _installations_of(ctx) if i.id == installation_id), None)
    if found is None:
        raise ApiError(404, "Not Found")
    return found


@route("GET", "/app/installations/{installation_id}", auth="app")
def get_installation(ctx: Ctx) -> Reply:
    return Reply(200, shapes.installation(ctx.urls, ctx.world, _installation(ctx, ctx.number("installation_id"))))


@route("POST", "/app/installations/{installation_id}/access_tokens", auth="app")
def create_token(ctx: Ctx) -> Reply:
    installation = _installation(ctx, ctx.number("installation_id"))
    token = Token(f"ghs_{secrets.token_urlsafe(27)}", installation.id,
                  now() + timedelta(seconds=ctx.settings["token_lifetime_s"]))
    ctx.world.tokens[token.token] = token
    app = ctx.world.apps[installation.app_id]
    return Reply(201, {"token": token.token, "expires_at": shapes.iso(token.expires_at),
                       "permissions": dict(app.permissions),
                       "repository_selection": "all" if installation.repositories is None else "selected"})


def _installation_for_account(ctx: Ctx, account: str, repo_full_name: str | None = None) -> Reply:
    for installation in _installations_of(ctx):
        if installation.account.lower() != account.lower():
            continue
        if repo_full_name and installation.repositories is not None and repo_full_name.lower() not in {
                name.lower() for name in installation.repositories}:
            continue
        return Reply(200, shapes.installation(ctx.urls, ctx.world, installation))
    raise ApiError(404, "Not Found")


# --- the app's webhook delivery log --------------------------------------------------------------

@route("GET", "/app/hook/deliveries", auth="app")
def list_hook_deliveries(ctx: Ctx) -> Reply:
    """Newest first, `per_page` at most 100, paged by an opaque `cursor`, filtered by `status` as GitHub does."""
    app = _app(ctx)
    try:
        per_page = min(max(int(ctx.query.get("per_page", 30)), 1), 100)
        cursor = int(ctx.query["cursor"].removeprefix("v1_")) if "cursor" in ctx.query else None
    except ValueError:
        raise ApiError(422, "Invalid pagination parameters") from None
    wanted = ctx.query.get("status")
    items = [d for d in reversed(ctx.world.hook_deliveries) if d.app_id == app.id
             and (cursor is None or d.id <= cursor)
             and (wanted is None or (wanted == "success") == (200 <= d.status_code < 400))]
    page, rest = items[:per_page], items[per_page:]
    headers = {}
    if rest:
        query = urlencode({**ctx.query, "per_page": per_page, "cursor": f"v1_{rest[0].id}"})
        headers["Link"] = f'<{ctx.url}?{query}>; rel="next"'
    return Reply(200, [hooks.item(d) for d in page], headers)


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts", auth="app")
def redeliver_hook_delivery(ctx: Ctx) -> Reply:
    app = _app(ctx)
    number = ctx.number("delivery_id")
    original = next((d for d in ctx.world.hook_deliveries if d.id == number and d.app_id == app.id), None)
    if original is None:
        raise ApiError(404, "Not Found")
    hooks.redeliver(ctx.world, original)
    return Reply(202, {})


@route("GET", "/repos/{owner}/{repo}/installation", auth="app")
def get_repo_installation(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    return _installation_for_account(ctx, repo.owner, repo.full_name)


@route("GET", "/orgs/{org}/installation", auth="app")
def get_org_installation(ctx: Ctx) -> Reply:
    return _installation_for_account(ctx, ctx.params["org"])


@route("GET", "/users/{username}/installation", auth="app")
def get_user_installation(ctx: Ctx) -> Reply:
    return _installation_for_account(ctx, ctx.params["username"])


@route("GET", "/installation/repositories")
def list_installation_repos(ctx: Ctx) -> Reply:
    installation = ctx.installation
    assert installation is not None
    repos = [r for r in ctx.world.repos.values() if r.owner.lower() == installation.account.lower() and (
        installation.repositories is None or r.full_name in installation.repositories)]
    page, headers = paginate(ctx, repos)
    return Reply(200, {"total_count": len(repos),
                       "repository_selection": "all" if installation.repositories is None else "selected",
                       "repositories": [shapes.repository(ctx.urls, ctx.world, r) for r in page]}, headers)


@route("GET", "/rate_limit", auth="any")
def rate_limit(ctx: Ctx) -> Reply:
    limit = ctx.settings["rate_limit"]
    used = ctx.world.tokens[ctx.token].used if ctx.token else 0
    reset = int((now() + timedelta(hours=1)).timestamp())
    core = {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset}
    return Reply(200, {"resources": {"core": core, "search": {**core, "limit": 30, "used": 0, "remaining": 30}},
                       "rate": core})


# --- repositories and pull requests ------------------------------------------------------------

@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx) -> Reply:
    return Reply(200, shapes.repository(ctx.urls, ctx.world, ctx.the_repo()))


def _pull(ctx: Ctx) -> Any:
    try:
        return ctx.the_repo().pull(ctx.number("pull_number"))
    except NotFound:
        raise ApiError(404, "Not Found") from None


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    state = ctx.query.get("state", "open")
    pulls = [p for p in repo.pulls.values() if state == "all" or repo.issues[p.number].state == state]
    if "base" in ctx.query:
        pulls = [p for p in pulls if p.base_ref == ctx.query["base"]]
    if "head" in ctx.query:
        pulls = [p for p in pulls if f"{repo.owner}:{p.head_ref}" == ctx.query["head"]]
    pulls.sort(key=lambda p: p.number, reverse=ctx.query.get("direction", "desc") == "desc")
    page, headers = paginate(ctx, pulls)
    return Reply(200, [_simple_pull(ctx, repo, p) for p in page], headers)


def _simple_pull(ctx: Ctx, repo: Any, pull: Any) -> dict[str, Any]:
    """A `pull-request-simple`: it declares a label's description a string (the full pull request: nullable)."""
    body = shapes.pull_request(ctx.urls, ctx.world, repo, pull, full=False)
    for label in body["labels"]:
        label["description"] = label["description"] or ""
    return body


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(ctx: Ctx) -> Reply:
    return Reply(200, shapes.pull_request(ctx.urls, ctx.world, ctx.the_repo(), _pull(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(ctx: Ctx) -> Reply:
    repo, pull = ctx.the_repo(), _pull(ctx)
    issue = repo.issue(pull.number)
    _edit_issue(issue, ctx)
    return Reply(200, shapes.pull_request(ctx.urls, ctx.world, repo, pull))


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def request_reviewers(ctx: Ctx) -> Reply:
    """Known accounts only, never the author; otherwise 422 (bodiless, as GitHub's description has it)."""
    repo, pull = ctx.the_repo(), _pull(ctx)
    author = repo.issue(pull.number).user
    wanted = ctx.field("reviewers")
    if any(login == author or login not in ctx.world.accounts for login in wanted):
        return Reply(422, raw=b"")  # no body, as the description documents this 422
    for login in wanted:
        if login not in pull.requested_reviewers:
            pull.requested_reviewers.append(login)
    return Reply(201, _simple_pull(ctx, repo, pull))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_pull_files(ctx: Ctx) -> Reply:
    repo, pull = ctx.the_repo(), _pull(ctx)
    base = repo.merge_base(pull)
    if pull.merged and pull.merge_commit_sha:
        base = repo.git.merge_base(repo.git.commits[pull.merge_commit_sha].parents[0], repo.head_sha(pull)) or base
    entries = shapes.diff_entries(ctx.urls, repo, base, repo.head_sha(pull), ctx.settings["patch_limit"])
    page, headers = paginate(ctx, entries, MAX_PULL_FILES)
    return Reply(200, page, headers)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def list_pull_commits(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    commits = shapes.pull_commits(repo, _pull(ctx))
    page, headers = paginate(ctx, commits, MAX_PULL_COMMITS)
    return Reply(200, [shapes.commit(ctx.urls, ctx.world, repo, c) for c in page], headers)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(ctx: Ctx) -> Reply:
    repo, pull = ctx.the_repo(), _pull(ctx)
    reviews = [r for r in repo.reviews.values() if r.pull_number == pull.number]
    page, headers = paginate(ctx, reviews)
    return Reply(200, [shapes.review(ctx.urls, ctx.world, repo, r) for r in page], headers)


_REVIEW_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def create_review(ctx: Ctx) -> Reply:
    repo, pull = ctx.the_repo(), _pull(ctx)
    event = ctx.field("event")
    state = _REVIEW_STATES.get(event, "PENDING")
    body = ctx.field("body") or ""
    if state in ("CHANGES_REQUESTED", "COMMENTED") and not body:
        raise ApiError(422, "Unprocessable Entity", errors=[f"Body is required for {event} reviews"])
    item = Review(ctx.world.next_id(), pull.number, ctx.actor, state, body,
                  ctx.field("commit_id") or repo.head_sha(pull))
    repo.reviews[item.id] = item
    return Reply(200, shapes.review(ctx.urls, ctx.world, repo, item))


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
def merge_pull(ctx: Ctx) -> Reply:
    repo, pull = ctx.the_repo(), _pull(ctx)
    method = ctx.field("merge_method", "merge")
    try:
        commit = ctx.world.merge(repo, pull, ctx.actor, ctx.field("sha"), method, ctx.field("commit_title"),
                                 ctx.field("commit_message"))
    except Conflict as clash:
        raise ApiError(clash.status, clash.message) from None
    return Reply(200, {"sha": commit.sha, "merged": True, "message": "Pull Request successfully merged"})


# --- content -----------------------------------------------------------------------------------

def _commit(ctx: Ctx, ref: str) -> Any:
    try:
        return ctx.the_repo().resolve(ref)
    except NotFound as missing:
        raise ApiError(404 if len(ref) < 40 else 422, str(missing)) from None


@route("GET", "/repos/{owner}/{repo}/contents/{path}")
def get_content(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    ref = ctx.query.get("ref") or repo.default_branch
    commit = _commit(ctx, ref)
    path = ctx.params["path"].strip("/")
    mode = commit.modes.get(path)
    if mode == SUBMODULE:
        body = shapes.content_entry(ctx.urls, repo, ref, path, "submodule", commit.files[path], 0)
        return Reply(200, {**body, "submodule_git_url": repo.git.submodule_urls.get(commit.files[path], "")})
    if mode == SYMLINK:
        link = repo.git.blobs[commit.files[path]].decode(errors="replace")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
        if target in commit.files and target not in commit.modes:
            path = target  # GitHub answers a link to a regular file of the repository with that file
        else:
            body = shapes.content_entry(ctx.urls, repo, ref, path, "symlink", commit.files[path], len(link))
            return Reply(200, {**body, "target": link})
    if path in commit.files:
        data = repo.git.blobs[commit.files[path]]
        accept = ctx.headers.get("accept", "")
        if "vnd.github.raw" in accept or "vnd.github.v3.raw" in accept:
            if len(data) > BLOB_LIMIT:
                raise ApiError(403, "This API returns blobs up to 100 MB in size.")
            return Reply(200, raw=data, headers={"Content-Type": "application/vnd.github.raw"})
        if len(data) > CONTENT_LIMIT:
            raise ApiError(403, "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch "
                                "via the API, but you can use the Git Data API to request blobs up to 100 MB in size.",
                           errors=[{"resource": "Blob", "field": "data", "code": "too_large"}])
        body = shapes.content_entry(ctx.urls, repo, ref, path, "file", commit.files[path], len(data))
        body.update(content=shapes.encode_content(data), encoding="base64")
        return Reply(200, body)
    prefix = f"{path}/" if path else ""
    children: dict[str, tuple[str, str, int]] = {}
    for file_path, sha in commit.files.items():
        if file_path.startswith(prefix):
            head, _, rest = file_path[len(prefix):].partition("/")
            kind = "symlink" if commit.modes.get(file_path) == SYMLINK else "file"  # a submodule lists as a file
            children.setdefault(head, ("dir", "", 0) if rest else (kind, sha, len(repo.git.blobs[sha])))
    if not children:
        raise ApiError(404, "Not Found")
    listing = []
    for name, (kind, sha, size) in sorted(children.items()):
        if kind == "dir":
            sha = next(e.sha for p, e in repo.git.walk_tree(commit.tree) if p == f"{prefix}{name}")
        listing.append(shapes.content_entry(ctx.urls, repo, ref, f"{prefix}{name}", kind, sha, size))
    return Reply(200, listing)


@route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    sha = ctx.params["tree_sha"]
    if sha not in repo.git.trees:
        sha = _commit(ctx, sha).tree
    recursive = ctx.query.get("recursive", "") not in ("", "0", "false")
    return Reply(200, shapes.tree(ctx.urls, repo, sha, recursive))


@route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")
def get_blob(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    sha = ctx.params["file_sha"]
    if sha not in repo.git.blobs:
        raise ApiError(404, "Not Found")
    return Reply(200, shapes.blob(ctx.urls, repo, sha))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}")
def get_commit(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    return Reply(200, shapes.commit(ctx.urls, ctx.world, repo, _commit(ctx, ctx.params["ref"]), with_files=True))


@route("GET", "/repos/{owner}/{repo}/commits/{commit_sha}/pulls")
def list_commit_pulls(ctx: Ctx) -> Reply:
    """The pull requests GitHub associates with a commit (`World.pulls_of_commit`)."""
    repo = ctx.the_repo()
    pulls = ctx.world.pulls_of_commit(repo, _commit(ctx, ctx.params["commit_sha"]).sha)
    page, headers = paginate(ctx, pulls)
    return Reply(200, [_simple_pull(ctx, repo, p) for p in page], headers)


@route("GET", "/repos/{owner}/{repo}/compare/{basehead}")
def compare(ctx: Ctx) -> Reply:
    base, sep, head = ctx.params["basehead"].partition("...")
    if not sep:
        raise ApiError(404, "Not Found")
    repo = ctx.the_repo()
    return Reply(200, shapes.comparison(ctx.urls, ctx.world, repo, _commit(ctx, base), _commit(ctx, head)))


# --- checks ------------------------------------------------------------------------------------

def _check_run(ctx: Ctx) -> CheckRun:
    run = ctx.the_repo().check_runs.get(ctx.number("check_run_id"))
    if run is None:
        raise ApiError(404, "Not Found")
    return run


def _apply_check_fields(ctx: Ctx, run: CheckRun) -> None:
    """Set what the body of a create or update carries; annotations append, as GitHub's do."""
    output = ctx.field("output") or {}
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        raise ApiError(422, f"Invalid request. Only {MAX_ANNOTATIONS} annotations are allowed per request.")
    for name in ("name", "details_url", "external_id"):
        if ctx.field(name) is not None:
            setattr(run, name, ctx.field(name))
    if ctx.field("status"):
        run.status = ctx.field("status")
    if ctx.field("conclusion"):
        run.conclusion, run.status = ctx.field("conclusion"), "completed"
    if run.status == "completed" and run.conclusion is None:
        raise ApiError(422, "Invalid request. `conclusion` is required when `status` is `completed`.")
    if run.status == "in_progress" and run.started_at is None:
        run.started_at = now()
    if ctx.field("started_at"):
        run.started_at = _timestamp(ctx.field("started_at"))
    if run.status == "completed":
        run.completed_at = _timestamp(ctx.field("completed_at")) if ctx.field("completed_at") else now()
    for key in ("title", "summary", "text"):
        if key in output:
            run.output[key] = output[key]
    run.annotations += annotations


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, f"Invalid request. {text!r} is not an ISO 8601 timestamp.") from None


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    installation = ctx.installation
    assert installation is not None
    head_sha = ctx.field("head_sha")
    if head_sha not in repo.git.commits:
        raise ApiError(422, "No commit found for SHA: " + str(head_sha))
    suite = next((r.suite_id for r in repo.check_runs.values()
                  if r.head_sha == head_sha and r.app_id == installation.app_id), None)
    run = CheckRun(ctx.world.next_id(), suite or ctx.world.next_id(), installation.app_id, head_sha,
                   ctx.field("name"), started_at=now())
    _apply_check_fields(ctx, run)
    repo.check_runs[run.id] = run
    return Reply(201, shapes.check_run(ctx.urls, ctx.world, repo, run))


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(ctx: Ctx) -> Reply:
    run = _check_run(ctx)
    assert ctx.installation is not None
    if run.app_id != ctx.installation.app_id:
        raise ApiError(403, f"Invalid app_id `{ctx.installation.app_id}` - check run can only be modified by "
                            "the GitHub App that created it.")
    _apply_check_fields(ctx, run)
    return Reply(200, shapes.check_run(ctx.urls, ctx.world, ctx.the_repo(), run))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(ctx: Ctx) -> Reply:
    return Reply(200, shapes.check_run(ctx.urls, ctx.world, ctx.the_repo(), _check_run(ctx)))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
def list_annotations(ctx: Ctx) -> Reply:
    run = _check_run(ctx)
    page, headers = paginate(ctx, run.annotations)
    return Reply(200, [shapes.annotation(ctx.urls, ctx.the_repo(), run, a) for a in page], headers)


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_check_runs(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    sha = _commit(ctx, ctx.params["ref"]).sha
    runs = [r for r in repo.check_runs.values() if r.head_sha == sha]
    if "check_name" in ctx.query:
        runs = [r for r in runs if r.name == ctx.query["check_name"]]
    if "status" in ctx.query:
        runs = [r for r in runs if r.status == ctx.query["status"]]
    if ctx.query.get("filter", "latest") == "latest":
        latest = {(r.app_id, r.name): r for r in sorted(runs, key=lambda r: r.id)}
        runs = list(latest.values())
    runs.sort(key=lambda r: r.id, reverse=True)
    page, headers = paginate(ctx, runs)
    return Reply(200, {"total_count": len(runs),
                       "check_runs": [shapes.check_run(ctx.urls, ctx.world, repo, r) for r in page]}, headers)


# --- issues, comments and labels ---------------------------------------------------------------

def _issue(ctx: Ctx) -> Any:
    try:
        return ctx.the_repo().issue(ctx.number("issue_number"))
    except NotFound:
        raise ApiError(404, "Not Found") from None


def _edit_issue(issue: Any, ctx: Ctx) -> None:
    for name in ("title", "body"):
        if ctx.field(name) is not None:
            setattr(issue, name, ctx.field(name))
    if ctx.field("state"):
        issue.set_state(ctx.field("state"))
    issue.updated_at = now()


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(ctx: Ctx) -> Reply:
    return Reply(200, shapes.issue(ctx.urls, ctx.world, ctx.the_repo(), _issue(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(ctx: Ctx) -> Reply:
    issue = _issue(ctx)
    _edit_issue(issue, ctx)
    if ctx.field("labels") is not None:
        issue.labels = [_ensure_label(ctx, name).name for name in _label_names(ctx.field("labels"))]
    return Reply(200, shapes.issue(ctx.urls, ctx.world, ctx.the_repo(), issue))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(ctx: Ctx) -> Reply:
    repo, issue = ctx.the_repo(), _issue(ctx)
    comments = sorted((c for c in repo.comments.values() if c.issue_number == issue.number), key=lambda c: c.id)
    if "since" in ctx.query:
        since = _timestamp(ctx.query["since"])
        comments = [c for c in comments if c.updated_at >= since]
    page, headers = paginate(ctx, comments)
    return Reply(200, [shapes.comment(ctx.urls, ctx.world, repo, c) for c in page], headers)


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events")
def list_issue_events(ctx: Ctx) -> Reply:
    repo, issue = ctx.the_repo(), _issue(ctx)
    events = [e for e in repo.issue_events if e.issue_number == issue.number]
    page, headers = paginate(ctx, events)
    return Reply(200, [shapes.issue_event(ctx.urls, ctx.world, repo, e) for e in page], headers)


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(ctx: Ctx) -> Reply:
    repo, issue = ctx.the_repo(), _issue(ctx)
    assert ctx.installation is not None
    body = ctx.field("body")
    if len(body.encode()) > 65536:
        raise ApiError(422, "Validation Failed", errors=[{"resource": "IssueComment", "code": "custom",
                                                          "field": "body", "message": "body is too long"}])
    item = Comment(ctx.world.next_id(), issue.number, ctx.actor, body,
                   performed_via_app=ctx.installation.app_id)
    repo.comments[item.id] = item
    return Reply(201, shapes.comment(ctx.urls, ctx.world, repo, item))


def _comment(ctx: Ctx) -> Comment:
    item = ctx.the_repo().comments.get(ctx.number("comment_id"))
    if item is None:
        raise ApiError(404, "Not Found")
    return item


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(ctx: Ctx) -> Reply:
    return Reply(200, shapes.comment(ctx.urls, ctx.world, ctx.the_repo(), _comment(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(ctx: Ctx) -> Reply:
    item = _comment(ctx)
    if item.user != ctx.actor:
        raise ApiError(403, "Resource not accessible by integration")
    item.body, item.updated_at = ctx.field("body"), now()
    return Reply(200, shapes.comment(ctx.urls, ctx.world, ctx.the_repo(), item))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(ctx: Ctx) -> Reply:
    item = _comment(ctx)
    if item.user != ctx.actor:
        raise ApiError(403, "Resource not accessible by integration")
    del ctx.the_repo().comments[item.id]
    return Reply(204)


def _label_names(body: Any) -> list[str]:
    """Label names from the forms GitHub accepts: a list of names, {labels: [...]}, or [{name: ...}]."""
    items = body.get("labels", []) if isinstance(body, dict) else body or []
    return [item["name"] if isinstance(item, dict) else str(item) for item in items]


def _ensure_label(ctx: Ctx, name: str) -> Label:
    """The repository's label NAME (case-insensitive), created grey as GitHub does when it is new."""
    labels = ctx.the_repo().labels
    if name.lower() not in labels:
        labels[name.lower()] = Label(ctx.world.next_id(), name)
    return labels[name.lower()]


def _issue_labels(ctx: Ctx, issue: Any) -> Reply:
    repo = ctx.the_repo()
    return Reply(200, [shapes.label(ctx.urls, repo, repo.labels[name.lower()]) for name in issue.labels])


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_issue_labels(ctx: Ctx) -> Reply:
    return _issue_labels(ctx, _issue(ctx))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_labels(ctx: Ctx) -> Reply:
    issue = _issue(ctx)
    for name in _label_names(ctx.body):
        label = _ensure_label(ctx, name)
        if label.name not in issue.labels:
            issue.labels.append(label.name)
    return _issue_labels(ctx, issue)


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def set_labels(ctx: Ctx) -> Reply:
    issue = _issue(ctx)
    issue.labels = [_ensure_label(ctx, name).name for name in _label_names(ctx.body)]
    return _issue_labels(ctx, issue)


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}")
def remove_label(ctx: Ctx) -> Reply:
    issue = _issue(ctx)
    wanted = ctx.params["name"].lower()
    if wanted not in [name.lower() for name in issue.labels]:
        raise ApiError(404, "Label does not exist")
    issue.labels = [name for name in issue.labels if name.lower() != wanted]
    return _issue_labels(ctx, issue)


@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    page, headers = paginate(ctx, list(repo.labels.values()))
    return Reply(200, [shapes.label(ctx.urls, repo, item) for item in page], headers)


@route("GET", "/repos/{owner}/{repo}/labels/{name}")
def get_label(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    item = repo.labels.get(ctx.params["name"].lower())
    if item is None:
        raise ApiError(404, "Not Found")
    return Reply(200, shapes.label(ctx.urls, repo, item))


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    name = ctx.field("name")
    if name.lower() in repo.labels:
        raise ApiError(422, "Validation Failed",
                       errors=[{"resource": "Label", "code": "already_exists", "field": "name"}])
    item = Label(ctx.world.next_id(), name, (ctx.field("color") or "ededed").lstrip("#"), ctx.field("description"))
    repo.labels[name.lower()] = item
    return Reply(201, shapes.label(ctx.urls, repo, item))


# --- commit statuses ---------------------------------------------------------------------------

@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    sha = ctx.params["sha"]
    if sha not in repo.git.commits:
        raise ApiError(422, f"No commit found for SHA: {sha}")
    item = Status(ctx.world.next_id(), sha, ctx.field("state"), ctx.field("context") or "default",
                  ctx.field("description"), ctx.field("target_url"), ctx.actor)
    repo.statuses.append(item)
    return Reply(201, shapes.status(ctx.urls, ctx.world, repo, item))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/status")
def combined_status(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    return Reply(200, shapes.combined_status(ctx.urls, ctx.world, repo, _commit(ctx, ctx.params["ref"]).sha))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses")
def list_statuses(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    sha = _commit(ctx, ctx.params["ref"]).sha
    found = [s for s in reversed(repo.statuses) if s.sha == sha]
    page, headers = paginate(ctx, found)
    return Reply(200, [shapes.status(ctx.urls, ctx.world, repo, s) for s in page], headers)


# --- people ------------------------------------------------------------------------------------

@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def team_membership(ctx: Ctx) -> Reply:
    org, slug, login = ctx.params["org"], ctx.params["team_slug"], ctx.params["username"]
    team = ctx.world.teams.get((org.lower(), slug.lower()))
    if team is None or login not in team.members:
        raise ApiError(404, "Not Found")
    return Reply(200, {"url": f"{ctx.urls.api}/teams/{team.id}/memberships/{login}",
                       "role": team.members[login], "state": "active"})


@route("GET", "/orgs/{org}/teams/{team_slug}/members")
def team_members(ctx: Ctx) -> Reply:
    team = ctx.world.teams.get((ctx.params["org"].lower(), ctx.params["team_slug"].lower()))
    if team is None:
        raise ApiError(404, "Not Found")
    page, headers = paginate(ctx, sorted(team.members))
    return Reply(200, [shapes.user(ctx.urls, ctx.world.account(login)) for login in page], headers)


@route("GET", "/orgs/{org}/members/{username}")
def org_member(ctx: Ctx) -> Reply:
    org, login = ctx.params["org"].lower(), ctx.params["username"]
    if any(team.org.lower() == org and login in team.members for team in ctx.world.teams.values()):
        return Reply(204)
    raise ApiError(404, "Not Found")


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def collaborator_permission(ctx: Ctx) -> Reply:
    repo = ctx.the_repo()
    login = ctx.params["username"]
    if login not in ctx.world.accounts:
        raise ApiError(404, "Not Found")
    permission = "admin" if login == repo.owner else repo.collaborators.get(login, "read")
    role = {"admin": "admin", "write": "write", "read": "read"}.get(permission, permission)
    account = shapes.user(ctx.urls, ctx.world.account(login))
    account["permissions"] = {"admin": permission == "admin", "maintain": permission == "admin",
                              "push": permission in ("admin", "write"), "triage": permission in ("admin", "write"),
                              "pull": True}
    account["role_name"] = role
    return Reply(200, {"permission": permission, "role_name": role, "user": account})

