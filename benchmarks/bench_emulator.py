"""The GitHub emulator: what checking every call against GitHub's REST description costs.

One triage-shaped round of calls (read the PR, its files, a file's content; create and complete
a check run with 50 annotations; post and edit the sticky comment; add labels; list check runs),
repeated, through a keep-alive HTTP session, against a baseline measured in the same run: the
same rounds on an emulator serving without the description. Also: loading the 13 MB description.
Needs the corpus (github/rest-openapi.json) for the validated side.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_EMULATOR_ROUNDS", "40"))
REPO = "octo-org/taxonomy"


def _round(api: object, head: str) -> int:
    """One triage's calls; returns how many were made."""
    get, call = api.get, api.call  # type: ignore[attr-defined]
    leaf = "compositional_skills/writing/limerick/qna.yaml"
    get(f"/repos/{REPO}/pulls/1")
    get(f"/repos/{REPO}/pulls/1/files")
    get(f"/repos/{REPO}/contents/{leaf}", params={"ref": head})
    run = call("POST", f"/repos/{REPO}/check-runs", json={"name": "triage", "head_sha": head}).json()
    annotations = [{"path": leaf, "start_line": n, "end_line": n, "annotation_level": "warning",
                    "message": "m"} for n in range(1, 51)]
    call("PATCH", f"/repos/{REPO}/check-runs/{run['id']}", json={
        "conclusion": "failure", "output": {"title": "t", "summary": "s", "annotations": annotations}})
    comment = call("POST", f"/repos/{REPO}/issues/1/comments", json={"body": "<!-- t -->"}).json()
    call("PATCH", f"/repos/{REPO}/issues/comments/{comment['id']}", json={"body": "<!-- t -->\nv2"})
    call("POST", f"/repos/{REPO}/issues/1/labels", json={"labels": ["skill"]})
    get(f"/repos/{REPO}/commits/{head}/check-runs")
    return 9


def _measure(openapi_path: Path) -> tuple[float, float]:
    """(calls per second, median ms per call) over ROUNDS rounds."""
    from tests.emulator.client import EmulatorClient
    from tests.emulator.plugin import APP_ID, GitHubApp, rsa_key_pair
    from tests.emulator.server import EmulatorServer
    from tests.emulator_tests.helpers import Api, seed

    private, public = rsa_key_pair()
    with EmulatorServer(openapi_path=openapi_path) as server:
        client = EmulatorClient(server.url)
        client.register_app(APP_ID, public, slug="taxonomist")
        installation = client.install(APP_ID, "octo-org")
        client.settings(rate_limit=10**9)
        head = seed(client)["head"]["sha"]
        api = Api(client, GitHubApp(APP_ID, "taxonomist", private, public, installation, "octo-org"))
        _round(api, head)  # warm-up: validators are built lazily, once per schema
        per_round = []
        calls = 0
        for _ in range(ROUNDS):
            started = time.perf_counter()
            calls += _round(api, head)
            per_round.append(time.perf_counter() - started)
        client.assert_no_violations()
    return calls / sum(per_round), statistics.median(per_round) / 9 * 1000


def main() -> None:
    sys.path.insert(0, str(ROOT))
    description = Path(os.environ.get("TAXONOMIST_CORPUS", ROOT.parent / "shared" / "corpus")) / "github" \
        / "rest-openapi.json"
    if not description.is_file():
        print(f"bench_emulator: skipped: GitHub's REST description is not at {description} (set TAXONOMIST_CORPUS)")
        return
    from tests.emulator.openapi import OpenAPI

    started = time.perf_counter()
    with description.open("rb") as handle:
        OpenAPI(json.load(handle))
    print(f"loading rest-openapi.json ({description.stat().st_size / 1e6:.1f} MB): "
          f"{time.perf_counter() - started:.2f} s")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base_rate, base_ms = _measure(description.with_name("absent-for-the-baseline.json"))
    rate, ms = _measure(description)
    print(f"baseline, no validation: {base_rate:.0f} calls/s, median {base_ms:.1f} ms/call ({ROUNDS} rounds of 9)")
    print(f"validating every call:   {rate:.0f} calls/s, median {ms:.1f} ms/call")
    print(f"ratio validating/baseline: {ms / base_ms:.2f}x time per call")


if __name__ == "__main__":
    main()
