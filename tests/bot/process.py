"""The real `taxonomist bot serve` process for tests: start it, wait until healthy, sign deliveries."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.service.signature import sign

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-webhook-secret"


def write_private_key(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: dict[str, Any]


@dataclass
class BotProcess:
    """One `taxonomist bot serve` (or `worker`) process and its settings."""

    data_dir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @classmethod
    def configure(cls, tmp: Path, api_url: str = "http://127.0.0.1:9", **extra: str) -> BotProcess:
        tmp.mkdir(parents=True, exist_ok=True)
        data = tmp / "data"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "", "OMP_NUM_THREADS": "1",
               "TAXONOMIST_APP_ID": "1", "TAXONOMIST_WEBHOOK_SECRET": SECRET,
               "TAXONOMIST_PRIVATE_KEY": str(write_private_key(tmp / "app.pem")),
               "TAXONOMIST_GITHUB_API_URL": api_url, "TAXONOMIST_DATA_DIR": str(data),
               "TAXONOMIST_JOB_LEASE": "3",  # a killed bot's job is taken over 3 s later
               "TAXONOMIST_PRECHECK_MODEL": "none",  # the model's precheck: its own tests turn it on
               "TAXONOMIST_RECONCILE_MINUTES": "0", **extra}  # reconciliation too
        return cls(data_dir=data, env=env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *args: str, command: str = "serve") -> BotProcess:
        self.log_path = self.data_dir.parent / f"bot-{command}-{time.time_ns()}.log"
        extra = ["--port", str(self.port)] if command == "serve" else []
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from taxonomist.cli import main; main()", "bot", command, *extra, *args],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        if command == "serve":
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, f"bot exited:\n{self.logs()}"
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"bot not healthy in {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no cleanup, as a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def post(self, event: str, body: bytes, *, signature: str | None = "sign", delivery: str | None = None,
             secret: str = SECRET) -> Reply:
        headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
                   "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(secret, body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        request = urllib.request.Request(self.url + "/webhook", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return Reply(r.status, json.loads(r.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, json.loads(exc.read() or b"{}"))

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read().decode()
