"""The control API under `/_emulator/`: tests seed state, inject faults and read what happened.

GitHub never serves this prefix. Bodies and answers are JSON; a bad request gets 400 with what
is wrong, an unknown repository or pull request 404.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.emulator import hooks, shapes
from tests.emulator.faults import Fault
from tests.emulator.gitstore import Special, now
from tests.emulator.state import App, Comment, Conflict, Installation, Label, NotFound, Review, Team

if TYPE_CHECKING:
    from tests.emulator.app import Emulator

Control = Callable[["Emulator", dict[str, str], Any, shapes.Urls], Any]
_CONTROLS: list[tuple[str, re.Pattern[str], Control]] = []


class BadRequest(ValueError):
    """A control request the emulator cannot act on (400)."""


def control(method: str, template: str) -> Callable[[Control], Control]:
    pattern = re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))

    def register(handler: Control) -> Control:
        _CONTROLS.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


def endpoint(emulator: Emulator) -> Callable[[Request], Any]:
    async def serve(request: Request) -> Response:
        path = "/" + request.path_params["rest"]
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return JSONResponse({"error": "the control API takes a JSON body"}, 400)
        for method, regex, handler in _CONTROLS:
            found = regex.match(path)
            if found and method == request.method:
                urls = shapes.Urls(str(request.base_url).rstrip("/"))
                try:
                    with emulator.lock:
                        answer = handler(emulator, found.groupdict(), body, urls)
                except (BadRequest, KeyError, TypeError, ValueError) as error:
                    return JSONResponse({"error": f"{type(error).__name__}: {error}"}, 400)
                except NotFound as error:
                    return JSONResponse({"error": f"not found: {error}"}, 404)
                except Conflict as error:
                    return JSONResponse({"error": error.message}, error.status)
                return JSONResponse(answer)
        return JSONResponse({"error": f"no control endpoint {request.method} /_emulator{path}"}, 404)

    return serve


def decode_files(files: dict[str, Any]) -> dict[str, bytes | None]:
    """A control file map: text, {"base64": ...}, {"symlink": TARGET}, {"submodule": SHA, "url": URL},
    or null to delete the path."""
    decoded: dict[str, bytes | None] = {}
    for path, value in files.items():
        if value is None:
            decoded[path] = None
        elif isinstance(value, dict) and "base64" in value:
            decoded[path] = base64.b64decode(value["base64"])
        elif isinstance(value, dict) and isinstance(value.get("symlink"), str):
            decoded[path] = Special.symlink(value["symlink"])
        elif isinstance(value, dict) and re.fullmatch(r"[0-9a-f]{40}", str(value.get("submodule"))):
            decoded[path] = Special.submodule(value["submodule"], str(value.get("url", "")))
        elif isinstance(value, str):
            decoded[path] = value.encode()
        else:
            raise BadRequest(f"file {path!r}: give text, {{'base64': ...}}, {{'symlink': ...}}, "
                             f"{{'submodule': SHA, 'url': ...}} or null, not {value!r:.80}")
    return decoded


# --- setup -------------------------------------------------------------------------------------

@control("POST", "/reset")
def reset(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    emulator.reset()
    return {"reset": True}


@control("GET", "/info")
def info(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    return {"api_url": urls.api, "validating": emulator.description is not None, "validation": emulator.validation_note}


@control("PATCH", "/settings")
def settings(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    unknown = set(body) - set(emulator.settings)
    if unknown:
        raise BadRequest(f"unknown settings {sorted(unknown)}; known: {sorted(emulator.settings)}")
    emulator.settings.update({key: int(value) for key, value in body.items()})
    return emulator.settings


@control("POST", "/users")
def add_user(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    kind = body.get("type", "User")
    if kind not in ("User", "Organization", "Bot"):
        raise BadRequest(f"type {kind!r} is not User, Organization or Bot")
    account = emulator.world.account(body["login"], kind)
    # An account made on first mention gets the details given now.
    account.type = body.get("type") or account.type
    account.name = body.get("name") or account.name
    account.email = body.get("email") or account.email
    return shapes.user(urls, account)


@control("POST", "/teams")
def add_team(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    org, slug = body["org"], body["slug"]
    emulator.world.account(org, "Organization")
    members = body.get("members", {})
    if isinstance(members, list):
        members = dict.fromkeys(members, "member")
    for login, role in members.items():
        if role not in ("member", "maintainer"):
            raise BadRequest(f"team role {role!r} of {login!r} is not member or maintainer")
        emulator.world.account(login)
    team = Team(org, slug, emulator.world.next_id(), body.get("name", slug), dict(members))
    emulator.world.teams[(org.lower(), slug.lower())] = team
    return {"id": team.id, "org": org, "slug": slug, "members": team.members}


@control("POST", "/apps")
def add_app(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    slug = body.get("slug", f"app-{body['id']}")
    owner = body.get("owner", "octo-org")
    world.account(owner, "Organization")  # an existing account keeps its type
    pem = body["public_key_pem"].encode()
    if b"PUBLIC KEY" not in pem:
        raise BadRequest("public_key_pem must be a PEM public key (-----BEGIN PUBLIC KEY-----)")
    bot = world.account(f"{slug}[bot]", "Bot")
    app = App(int(body["id"]), slug, body.get("name", slug), owner, pem, bot)
    world.apps[app.id] = app
    return shapes.integration(urls, world, app)


@control("POST", "/installations")
def add_installation(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    app_id = int(body["app_id"])
    if app_id not in world.apps:
        raise NotFound(f"app {app_id} (register it first)")
    account = body["account"]
    world.account(account, body.get("account_type", "Organization"))
    repositories = body.get("repositories")
    installation = Installation(int(body.get("id") or world.next_id()), app_id, account,
                                set(repositories) if repositories is not None else None)
    world.installations[installation.id] = installation
    return shapes.installation(urls, world, installation)


@control("GET", "/installations/{installation_id}")
def render_installation(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    installation = emulator.world.installations.get(int(params["installation_id"]))
    if installation is None:
        raise NotFound(f"installation {params['installation_id']}")
    return shapes.installation(urls, emulator.world, installation)


# --- repositories and pull requests ------------------------------------------------------------

@control("POST", "/repos")
def add_repo(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    repo = emulator.world.create_repo(body["owner"], body["name"], _only_content(body.get("files", {})),
                                      body.get("default_branch", "main"), bool(body.get("private", False)))
    for name, spec in body.get("labels", {}).items():
        repo.labels[name.lower()] = Label(emulator.world.next_id(), name, spec.get("color", "ededed"),
                                          spec.get("description"))
    return {**shapes.repository(urls, emulator.world, repo), "head_sha": repo.branches[repo.default_branch]}


def _only_content(files: dict[str, Any]) -> dict[str, bytes]:
    decoded = decode_files(files)
    missing = [path for path, data in decoded.items() if data is None]
    if missing:
        raise BadRequest(f"a new repository cannot delete {missing}")
    return {path: data for path, data in decoded.items() if data is not None}


@control("POST", "/repos/{owner}/{repo}/commits")
def push(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    repo = emulator.world.repo(params["owner"], params["repo"])
    branch = body.get("branch", repo.default_branch)
    commit = emulator.world.push(repo, branch, decode_files(body.get("files", {})), body.get("message", "Update"),
                                 body.get("author", repo.owner), body.get("from_branch"))
    return {"sha": commit.sha, "branch": branch}


@control("POST", "/repos/{owner}/{repo}/pulls")
def open_pull(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    user = body.get("user", repo.owner)
    head = body["head"]
    if "files" in body:
        world.push(repo, head, decode_files(body["files"]), body.get("message", body.get("title", "Change")), user,
                   body.get("base"))
    pull = world.open_pull(repo, head, body.get("base"), body.get("title", head), body.get("body"), user,
                           bool(body.get("draft", False)))
    return shapes.pull_request(urls, world, repo, pull)


@control("POST", "/repos/{owner}/{repo}/pulls/{number}/commits")
def push_to_pull(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    pull = repo.pull(int(params["number"]))
    author = body.get("author", repo.issue(pull.number).user)
    before = repo.head_sha(pull)
    commit = world.push(repo, pull.head_ref, decode_files(body.get("files", {})), body.get("message", "Update"), author)
    return {"sha": commit.sha, "before": before, "branch": pull.head_ref}


@control("PUT", "/repos/{owner}/{repo}/pulls/{number}/head")
def force_push_pull(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """Move the PR's head branch to an existing commit, as `git push --force` would."""
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    pull = repo.pull(int(params["number"]))
    before = repo.head_sha(pull)
    world.force_push(repo, pull.head_ref, body["sha"], body.get("actor", repo.issue(pull.number).user))
    return {"sha": repo.head_sha(pull), "before": before, "branch": pull.head_ref}


@control("PATCH", "/repos/{owner}/{repo}/pulls/{number}")
def edit_pull(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """Change what a human would: title, body, state, draft, base (recorded as `base_ref_changed`), or force
    `mergeable` (null: computed)."""
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    pull = repo.pull(int(params["number"]))
    issue = repo.issue(pull.number)
    if "base" in body:
        world.change_base(repo, pull, body["base"], body.get("actor", issue.user))
    for name in ("title", "body"):
        if name in body:
            setattr(issue, name, body[name])
    if "state" in body:
        issue.set_state(body["state"])
    if "draft" in body:
        pull.draft = bool(body["draft"])
    if "mergeable" in body:
        pull.mergeable_override = body["mergeable"]
    return shapes.pull_request(urls, world, repo, pull)


@control("GET", "/repos/{owner}/{repo}/pulls/{number}")
def render_pull(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """The PR, its issue and repository as the API renders them, for building webhook payloads."""
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    pull = repo.pull(int(params["number"]))
    return {"pull_request": shapes.pull_request(urls, world, repo, pull),
            "issue": shapes.issue(urls, world, repo, repo.issue(pull.number)),
            "repository": shapes.repository(urls, world, repo),
            "head_commit": shapes.commit(urls, world, repo, repo.git.commits[repo.head_sha(pull)])}


@control("GET", "/repos/{owner}/{repo}")
def render_repo(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    return {"repository": shapes.repository(urls, world, repo), "branches": dict(repo.branches),
            "commits": {sha: shapes.commit(urls, world, repo, c) for sha, c in repo.git.commits.items()}}


@control("POST", "/repos/{owner}/{repo}/issues/{number}/comments")
def human_comment(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """A comment by a person (not through the API the bot uses); returns it as the API shows it."""
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    issue = repo.issue(int(params["number"]))
    world.account(body["user"])
    item = Comment(world.next_id(), issue.number, body["user"], body["body"])
    repo.comments[item.id] = item
    return shapes.comment(urls, world, repo, item)


@control("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def human_edit_comment(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    item = repo.comments.get(int(params["comment_id"]))
    if item is None:
        raise NotFound(f"comment {params['comment_id']}")
    item.body, item.updated_at = body["body"], now()
    return shapes.comment(urls, world, repo, item)


@control("POST", "/repos/{owner}/{repo}/pulls/{number}/reviews")
def human_review(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    pull = repo.pull(int(params["number"]))
    state = body.get("state", "APPROVED")
    if state not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"):
        raise BadRequest(f"review state {state!r} is not APPROVED, CHANGES_REQUESTED, COMMENTED or DISMISSED")
    world.account(body["user"])
    item = Review(world.next_id(), pull.number, body["user"], state, body.get("body", ""),
                  body.get("commit_id") or repo.head_sha(pull))
    repo.reviews[item.id] = item
    return shapes.review(urls, world, repo, item)


@control("POST", "/repos/{owner}/{repo}/collaborators")
def add_collaborator(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    repo = emulator.world.repo(params["owner"], params["repo"])
    permission = body.get("permission", "write")
    if permission not in ("admin", "write", "read"):
        raise BadRequest(f"permission {permission!r} is not admin, write or read")
    emulator.world.account(body["login"])
    repo.collaborators[body["login"]] = permission
    return {"login": body["login"], "permission": permission}


@control("GET", "/repos/{owner}/{repo}/state")
def repo_state(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """What the bot did to a repository: check runs (with every annotation), comments, labels, statuses, merges."""
    world = emulator.world
    repo = world.repo(params["owner"], params["repo"])
    runs = []
    for run in sorted(repo.check_runs.values(), key=lambda r: r.id):
        runs.append({**shapes.check_run(urls, world, repo, run), "annotations": list(run.annotations),
                     "output_full": dict(run.output)})
    return {
        "branches": dict(repo.branches),
        "check_runs": runs,
        "comments": [shapes.comment(urls, world, repo, c) for c in sorted(repo.comments.values(), key=lambda c: c.id)],
        "labels": {str(number): list(issue.labels) for number, issue in repo.issues.items()},
        "repo_labels": sorted(label.name for label in repo.labels.values()),
        "statuses": [shapes.status(urls, world, repo, s) for s in repo.statuses],
        "reviews": [shapes.review(urls, world, repo, r) for r in repo.reviews.values()],
        "issue_events": [shapes.issue_event(urls, world, repo, e) for e in repo.issue_events],
        "merges": list(repo.merges),
        "pulls": {str(n): {"state": repo.issues[n].state, "merged": p.merged, "head_sha": repo.head_sha(p)}
                  for n, p in repo.pulls.items()},
    }


# --- faults and the record ---------------------------------------------------------------------

@control("POST", "/faults")
def add_fault(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    allowed = {"kind", "method", "path", "status", "retry_after", "delay_s", "message", "times", "probability", "seed"}
    unknown = set(body) - allowed
    if unknown:
        raise BadRequest(f"unknown fault fields {sorted(unknown)}; known: {sorted(allowed)}")
    fault = Fault(id=len(emulator.faults) + 1, **body)
    emulator.faults.append(fault)
    return fault.to_dict()


@control("GET", "/faults")
def list_faults(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    return [fault.to_dict() for fault in emulator.faults]


@control("DELETE", "/faults")
def clear_faults(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    emulator.faults.clear()
    return []


@control("POST", "/apps/{app_id}/deliveries")
def deliver_hook(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """GitHub delivering an event to the app's webhook URL now: `url`, `event`, `guid`, the signed `body`
    (text) and its `headers`; the attempt and its outcome go to the app's delivery log."""
    app_id = int(params["app_id"])
    if app_id not in emulator.world.apps:
        raise NotFound(f"app {app_id}")
    payload = json.loads(body["body"])
    repository = payload.get("repository") or {}
    delivery = hooks.HookDelivery(
        emulator.world.next_id(), app_id, str(body["guid"]), str(body["url"]), str(body["event"]),
        payload.get("action"), (payload.get("installation") or {}).get("id"), repository.get("id"),
        body["body"].encode(), {str(k): str(v) for k, v in body["headers"].items()})
    return hooks.item(hooks.attempt(emulator.world, delivery))


@control("GET", "/calls")
def list_calls(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    return emulator.calls


@control("DELETE", "/calls")
def clear_calls(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    emulator.calls.clear()
    return []


@control("GET", "/violations")
def list_violations(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    return [{**vars(v), "text": str(v)} for v in emulator.violations]


@control("DELETE", "/violations")
def take_violations(emulator: Emulator, params: dict[str, str], body: Any, urls: shapes.Urls) -> Any:
    """Return the violations and forget them (a test that provoked them on purpose)."""
    taken = [{**vars(v), "text": str(v)} for v in emulator.violations]
    emulator.violations.clear()
    return taken
