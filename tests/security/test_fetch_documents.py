"""What a PR names is fetched with time limits, over https, from public addresses only (issue 22, item 2).

A leaf's `document.repo` is hostile: it may point at the worker's own network (loopback, private
ranges, the cloud metadata service), rebind its name between our check and git's lookup, or
trickle bytes forever. The production path refuses those; the tests reach a real git server on
loopback only through the build's explicit mirror, as an operator would configure one.
"""

from __future__ import annotations

import functools
import http.server
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.generate import handler as generate_handler
from bot.generate.run import CHECK_RUN_NAME
from bot.service.handlers import load_handlers
from bot.service.router import HandlerContext
from checks.samples import DOCUMENTS_REPO_URL, make_documents_repo
from pipeline.generate.documents import DocumentFetchError, fetch
from pipeline.generate.preview import preview
from pipeline.generate.remote import FetchLimits, RemoteRefused, is_public, pinned_options
from pipeline.models import tiny_model
from tests.bot.world import app_forge, tree
from tests.emulator.client import EmulatorClient
from tests.emulator.plugin import GitHubApp as EmulatedApp
from tests.pipeline.generate_helpers import ScriptedBackend, fast_settings, scripted_teacher
from tests.precheck.test_generate_command import REPO, comment_job

SAMPLE_LEAF = "knowledge/science/astronomy/solar_system"
LEAF = "knowledge/science/astronomy/solar_system_again"
COMMIT = "0" * 40
QUICK = FetchLimits(connect_timeout=2.0, low_speed_limit=1024, low_speed_time=1, deadline=3.0)


def _resolver(*addresses: str) -> Any:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return list(addresses)

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def _connected(address: str, port: int, timeout: float) -> None:
    return None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "10.0.0.5", "172.16.0.1", "192.168.1.1",
                                     "169.254.169.254", "100.100.100.200", "0.0.0.0", "::1", "fe80::1",
                                     "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1",
                                     "240.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:a00:1::1"])
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("addresses", [("127.0.0.1",), ("169.254.169.254",), ("93.184.216.34", "10.0.0.1"),
                                       ("::ffff:10.1.2.3",), ()])
def test_a_name_resolving_to_any_internal_address_is_refused(addresses: tuple[str, ...]) -> None:
    with pytest.raises(RemoteRefused, match=r"public|resolve"):
        pinned_options("https://docs.example/notes.git", QUICK, resolve=_resolver(*addresses), connect=_connected)


def test_git_is_pinned_to_the_address_that_was_checked_and_resolves_once() -> None:
    resolve = _resolver("93.184.216.34")
    options = pinned_options("https://Docs.Example/notes.git", QUICK, resolve=resolve, connect=_connected)
    assert options == ["-c", "http.curloptResolve=docs.example:443:93.184.216.34"]
    assert resolve.calls == ["docs.example"]
    six = pinned_options("https://docs.example:8443/n", QUICK, resolve=_resolver("2606:2800:220:1::1"),
                         connect=_connected)
    assert six == ["-c", "http.curloptResolve=docs.example:8443:[2606:2800:220:1::1]"]
    assert "http.followRedirects=false" in QUICK.git_options()


@pytest.mark.parametrize("url", ["https://127.0.0.1/notes.git", "https://localhost/notes.git",
                                 "https://169.254.169.254/latest/meta-data", "https://[::1]/notes.git",
                                 "https://0x7f000001/notes.git", "https://2130706433/notes.git"])
def test_the_production_path_refuses_loopback_and_metadata_before_git_starts(url: str, tmp_path: Path) -> None:
    with pytest.raises(DocumentFetchError, match=r"not public|does not resolve") as caught:
        fetch(url, COMMIT, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # git was never started
    assert str(tmp_path) not in caught.value.public


def test_a_plain_http_repository_is_refused_by_the_preview(tmp_path: Path) -> None:
    with pytest.raises(DocumentFetchError, match="https://"):
        fetch("http://docs.example/notes.git", COMMIT, tmp_path / "cache", schemes=("https",))


@contextmanager
def _silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers (a document host that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


def test_a_host_that_never_answers_ends_at_the_deadline_with_an_error_free_of_paths(tmp_path: Path) -> None:
    with _silent_server() as port:
        mirror = ((DOCUMENTS_REPO_URL, f"http://127.0.0.1:{port}/notes.git"),)
        with pytest.raises(DocumentFetchError) as caught:  # before the limits: git waited forever
            fetch(DOCUMENTS_REPO_URL, COMMIT, tmp_path / "cache", mirror, ("https",), QUICK)
    public = caught.value.public
    assert "too slow" in public or "deadline" in public or "timed out" in public, public
    assert str(tmp_path) not in public and "127.0.0.1" not in public and socket.gethostname() not in public


@contextmanager
def git_http_server(root: Path) -> Iterator[int]:
    """git's dumb HTTP protocol served from `root` on a loopback port: a real remote for git."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def served_documents(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The sample documents repository served over HTTP on loopback: (its URL, the sample commit)."""
    commit = make_documents_repo(tmp_path / "work")
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(tmp_path / "work"), str(served / "notes.git")], check=True)
    subprocess.run(["git", "update-server-info"], cwd=served / "notes.git", check=True)
    with git_http_server(served) as port:
        yield f"http://127.0.0.1:{port}/notes.git", commit


class KnowledgeSetup:
    """The bot's `GenerateSetup` with a scripted teacher; documents through the operator's mirror."""

    def __init__(self, cache: Path, student: Path, mirror: str) -> None:
        self.backend = ScriptedBackend()
        self.cache, self.settings = cache, fast_settings(student, ((DOCUMENTS_REPO_URL, mirror),))

    def previewer(self) -> Any:
        def run(sources: Any) -> dict[str, Any]:
            return preview(sources, self.settings, self.cache, teacher=scripted_teacher(self.backend), limits=QUICK)

        return run


@pytest.fixture
def knowledge_pr(github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path) -> tuple[Any, int]:
    from bot.demo import SAMPLES

    base = tree(SAMPLES / "taxonomy")
    base[".github/taxonomist.yml"] = "review:\n  triagers: [tina]\n"
    github_emulator.create_repo(REPO, base)
    forge = app_forge(github_emulator, github_app, tmp_path, REPO)
    files = {f"{LEAF}/{name}": text for name, text in tree(SAMPLES / "taxonomy" / SAMPLE_LEAF).items()}
    pull = github_emulator.open_pull(REPO, "knowledge", files=files, user="carla")
    return forge, int(pull["number"])


def test_generate_of_a_knowledge_leaf_fetches_its_document_over_http_and_previews(
        github_emulator: EmulatorClient, knowledge_pr: tuple[Any, int], served_documents: tuple[str, str],
        tmp_path: Path) -> None:
    forge, number = knowledge_pr
    url, _ = served_documents
    setup = KnowledgeSetup(tmp_path / "cache", tiny_model(tmp_path / "tiny"), url)
    outcome = load_handlers().dispatch(comment_job(number, "tina"), HandlerContext(forge=forge, generate=setup))
    (leaf,) = outcome.preview["leaves"]
    assert not leaf.get("error") and leaf["kept"], leaf
    assert any("Sun" in text for _, text in setup.backend.calls)  # the fetched document reached the teacher
    (run,) = [r for r in github_emulator.state(REPO)["check_runs"] if r["name"] == CHECK_RUN_NAME]
    assert run["conclusion"] == "success"


def test_generate_of_a_leaf_naming_an_internal_host_says_so_without_worker_paths(
        github_emulator: EmulatorClient, github_app: EmulatedApp, tmp_path: Path) -> None:
    from bot.demo import SAMPLES

    base = tree(SAMPLES / "taxonomy")
    base[".github/taxonomist.yml"] = "review:\n  triagers: [tina]\n"
    github_emulator.create_repo(REPO, base)
    forge = app_forge(github_emulator, github_app, tmp_path, REPO)
    files = {f"{LEAF}/{name}": text.replace(DOCUMENTS_REPO_URL, "https://169.254.169.254/latest")
             for name, text in tree(SAMPLES / "taxonomy" / SAMPLE_LEAF).items()}
    number = int(github_emulator.open_pull(REPO, "metadata", files=files, user="carla")["number"])
    setup = KnowledgeSetup(tmp_path / "cache", tiny_model(tmp_path / "tiny"), "unused")
    setup.settings = fast_settings(Path(setup.settings.student))
    load_handlers().dispatch(comment_job(number, "tina"), HandlerContext(forge=forge, generate=setup))
    (run,) = [r for r in github_emulator.state(REPO)["check_runs"] if r["name"] == CHECK_RUN_NAME]
    summary = run["output"]["summary"]
    assert "not public" in summary and not setup.backend.calls
    assert str(tmp_path) not in summary and socket.gethostname() not in summary


def test_generate_is_rate_limited_per_user_at_intake() -> None:
    payload = {"action": "created", "issue": {"number": 7, "pull_request": {}},
               "comment": {"id": 1, "body": "/generate", "user": {"login": "tina"}},
               "repository": {"full_name": REPO}}
    routes = [[j.route for j in load_handlers().jobs_for("issue_comment", f"d{i}", payload, time.time())]
              for i in range(generate_handler.GENERATE_RATE[0] + 2)]
    asked = [r.count("generate") for r in routes]
    assert asked[:generate_handler.GENERATE_RATE[0]] == [1] * generate_handler.GENERATE_RATE[0]
    assert asked[generate_handler.GENERATE_RATE[0]:] == [0, 0]
    other = {**payload, "comment": {**payload["comment"], "user": {"login": "tom"}}}
    assert "generate" in [j.route for j in load_handlers().jobs_for("issue_comment", "dx", other, time.time())]


def test_the_fetch_of_a_named_remote_is_pinned_direct_and_bounded(tmp_path: Path, monkeypatch: Any) -> None:
    """What git is told for a PR-named remote: the pinned address, no proxy (a proxy would resolve the name
    again), no redirect, the low-speed limit and the deadline."""
    from pipeline.generate import documents

    seen: list[tuple[list[str], dict[str, str], float | None]] = []

    def record(args: list[str], cwd: Path, error: type[Exception], *, binary: bool = False,
               env: dict[str, str] | None = None, timeout: float | None = None) -> str:
        seen.append((args, dict(env or {}), timeout))
        if "fetch" in args:
            raise error("fatal: stopped after 3 s")
        return ""

    monkeypatch.setattr(documents, "run_git", record)
    monkeypatch.setattr(documents, "pinned_options",
                        lambda url, limits: ["-c", "http.curloptResolve=docs.example:443:93.184.216.34"])
    with pytest.raises(DocumentFetchError) as caught:
        fetch("https://docs.example/notes.git", COMMIT, tmp_path / "cache", limits=QUICK)
    (args, env, timeout), = [s for s in seen if "fetch" in s[0]]  # a deadline: no second try
    assert "http.curloptResolve=docs.example:443:93.184.216.34" in args and "http.followRedirects=false" in args
    assert "http.lowSpeedLimit=1024" in args and timeout == QUICK.deadline
    assert env["NO_PROXY"] == "*" and env["GIT_ALLOW_PROTOCOL"] == "https"
    assert caught.value.public.endswith("not fetched: took longer than the fetch deadline")
