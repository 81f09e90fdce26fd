"""App authentication: JWTs, installation tokens and their scope, as GitHub enforces them."""

from __future__ import annotations

import time

import jwt
import requests

from tests.emulator.plugin import GitHubApp, rsa_key_pair
from tests.emulator_tests.helpers import REPO, Api, seed


def test_app_jwt_reads_the_app_and_the_repository_installation(github_emulator, github_app: GitHubApp) -> None:
    seed(github_emulator)
    headers = {"Authorization": f"Bearer {github_app.jwt()}"}
    app = requests.get(f"{github_emulator.api_url}/app", headers=headers, timeout=10)
    assert app.status_code == 200 and app.json()["id"] == github_app.app_id and app.json()["slug"] == "taxonomist"
    found = requests.get(f"{github_emulator.api_url}/repos/{REPO}/installation", headers=headers, timeout=10)
    assert found.status_code == 200 and found.json()["id"] == github_app.installation_id


def test_token_has_the_configured_lifetime_and_works_on_the_repository(github_emulator, github_app) -> None:
    seed(github_emulator)
    github_emulator.settings(token_lifetime_s=120)
    answer = requests.post(f"{github_emulator.api_url}/app/installations/{github_app.installation_id}/access_tokens",
                           headers={"Authorization": f"Bearer {github_app.jwt()}"}, timeout=10)
    assert answer.status_code == 201
    expires = time.mktime(time.strptime(answer.json()["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 100 <= expires - time.time() <= 125
    token = answer.json()["token"]
    repo = requests.get(f"{github_emulator.api_url}/repos/{REPO}", headers={"Authorization": f"token {token}"},
                        timeout=10)
    assert repo.status_code == 200 and repo.json()["full_name"] == REPO


def test_calls_without_a_valid_unexpired_token_get_401(github_emulator, github_app) -> None:
    seed(github_emulator)
    url = f"{github_emulator.api_url}/repos/{REPO}/pulls/1"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "token ghs_not-a-token"}, timeout=10).status_code == 401
    jwt_on_repo = requests.get(url, headers={"Authorization": f"Bearer {github_app.jwt()}"}, timeout=10)
    assert jwt_on_repo.status_code == 401
    github_emulator.settings(token_lifetime_s=0)
    expired = Api(github_emulator, github_app)
    answer = expired.get(f"/repos/{REPO}/pulls/1")
    assert answer.status_code == 401 and answer.json()["message"] == "Bad credentials"


def test_jwts_signed_with_another_key_or_living_too_long_are_refused(github_emulator, github_app) -> None:
    other_private, _ = rsa_key_pair()
    now = int(time.time())
    forged = jwt.encode({"iat": now - 60, "exp": now + 300, "iss": str(github_app.app_id)}, other_private,
                        algorithm="RS256")
    for token in (forged, github_app.jwt(lifetime_s=3600)):
        answer = requests.get(f"{github_emulator.api_url}/app", headers={"Authorization": f"Bearer {token}"},
                              timeout=10)
        assert answer.status_code == 401, answer.text


def test_a_token_only_reaches_the_installation_repositories(github_emulator, github_app) -> None:
    seed(github_emulator)
    github_emulator.create_repo("someone-else/taxonomy", {"README.md": "x\n"})
    api = Api(github_emulator, github_app)
    assert api.get(f"/repos/{REPO}").status_code == 200
    # GitHub hides repositories an installation cannot see.
    assert api.get("/repos/someone-else/taxonomy").status_code == 404


def test_rate_limit_headers_count_the_token_calls(github_emulator, github_app) -> None:
    seed(github_emulator)
    api = Api(github_emulator, github_app)
    first, second = api.get(f"/repos/{REPO}"), api.get(f"/repos/{REPO}")
    for answer in (first, second):
        for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used",
                       "X-RateLimit-Resource"):
            assert header in answer.headers
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    core = api.get("/rate_limit").json()["resources"]["core"]
    assert core["used"] == int(second.headers["X-RateLimit-Used"]) and core["limit"] == 5000


def test_an_exhausted_rate_limit_answers_403_with_no_calls_remaining(github_emulator, github_app) -> None:
    seed(github_emulator)
    github_emulator.settings(rate_limit=2)
    api = Api(github_emulator, github_app)
    assert [api.get(f"/repos/{REPO}").status_code for _ in range(2)] == [200, 200]
    refused = api.get(f"/repos/{REPO}")
    assert refused.status_code == 403 and "rate limit exceeded" in refused.json()["message"]
    assert refused.headers["X-RateLimit-Remaining"] == "0"
