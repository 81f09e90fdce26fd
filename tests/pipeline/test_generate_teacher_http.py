"""The HTTP path: a real `transformers serve` on loopback, and a faulty server for the retries."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from pipeline.generate.stage import generate
from pipeline.generate.teacher import OpenAIBackend, Request, Teacher, make_teacher
from pipeline.models import tiny_model
from pipeline.settings import TeacherSettings
from tests.pipeline.generate_helpers import documents_mirror, fast_settings, small_taxonomy
from tests.pipeline.serving import free_port, transformers_serve


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def server(tiny):
    with transformers_serve(tiny) as url:
        yield url


def test_teacher_talks_to_transformers_serve(server):
    teacher = make_teacher(TeacherSettings(endpoint=server, concurrency=2, retries=0))
    assert teacher.identity.startswith("openai:")
    requests = [Request([{"role": "user", "content": f"Say {i}"}], max_tokens=8) for i in range(3)]
    answers = teacher.ask_many(requests)
    assert all(isinstance(a, str) for a in answers)
    assert teacher.counters.requests == 3 and teacher.counters.failed == 0


def test_generate_through_the_server_counts_malformed_output(server, tiny, tmp_path):
    taxonomy = small_taxonomy(tmp_path / "taxonomy", git=False)
    settings = fast_settings(tiny, documents_mirror(tmp_path / "docs"), max_tokens=24, judge_max_tokens=4,
                             teacher=TeacherSettings(endpoint=server, concurrency=2, retries=0))
    sections = generate(taxonomy, tmp_path / "build", tmp_path / "cache", settings, progress=False)
    assert sections["teacher"]["requests"] > 0 and sections["teacher"]["failed"] == 0
    # a random tiny model writes gibberish: every generation is counted as malformed, nothing crashes
    phase2 = sections["samples"]["per_phase"]["phase2"]
    assert phase2["malformed"].get("questions", 0) > 0
    assert len(sections["leaves"]["used"]) == 3


class FaultyServer:
    """An OpenAI-shaped server that answers 503 `fail` times, then a completion; or stalls past the timeout."""

    def __init__(self, fail: int, stall_s: float = 0.0) -> None:
        self.fail, self.stall_s, self.calls = fail, stall_s, 0
        app = Starlette(routes=[Route("/v1/chat/completions", self.complete, methods=["POST"])])
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def complete(self, request: HttpRequest) -> JSONResponse:
        self.calls += 1
        if self.calls <= self.fail:
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=503)
        if self.stall_s:
            import asyncio

            await asyncio.sleep(self.stall_s)
        return JSONResponse({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": "Score: 4"}}]})

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_5xx_answers_are_retried_with_backoff_and_counted():
    with FaultyServer(fail=2) as url:
        teacher = Teacher(OpenAIBackend(url, model="m"), retries=3, backoff_s=0.01)
        assert teacher.ask(Request([{"role": "user", "content": "rate"}], 4)) == "Score: 4"
    assert teacher.counters.to_dict() == {"requests": 1, "failed": 0, "retried": 2}


def test_timeouts_past_the_retries_fail_and_are_counted():
    with FaultyServer(fail=0, stall_s=2.0) as url:
        teacher = Teacher(OpenAIBackend(url, model="m", timeout_s=0.3), retries=1, backoff_s=0.01)
        assert teacher.ask(Request([{"role": "user", "content": "rate"}], 4)) is None
    assert teacher.counters.to_dict() == {"requests": 1, "failed": 1, "retried": 1}
    assert "Timeout" in teacher.errors[0]


def test_an_unreachable_server_is_a_counted_failure():
    url = f"http://127.0.0.1:{free_port()}"
    teacher = Teacher(OpenAIBackend(url, model="m", timeout_s=1), retries=1, backoff_s=0.01)
    assert teacher.ask(Request([{"role": "user", "content": "hi"}], 4)) is None
    assert teacher.counters.failed == 1 and teacher.counters.retried == 1
