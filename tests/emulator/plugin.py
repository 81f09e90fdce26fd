"""pytest fixtures for the GitHub emulator (loaded for the whole suite by tests/conftest.py).

- `github_emulator_server`: one emulator per test session (loading GitHub's description takes
  half a second), served on a free loopback port.
- `github_emulator`: an `EmulatorClient` on a freshly reset emulator; at teardown it fails the
  test when any call broke GitHub's REST description.
- `github_app`: an app (RSA key pair generated here) registered and installed on `octo-org`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.emulator.client import EmulatorClient
from tests.emulator.server import EmulatorServer

APP_ID = 4242
APP_SLUG = "taxonomist"
ORG = "octo-org"


@dataclass(frozen=True)
class GitHubApp:
    """A registered app: what a bot needs to authenticate (`private_key_pem`) and where it is installed."""

    app_id: int
    slug: str
    private_key_pem: str
    public_key_pem: str
    installation_id: int
    account: str

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    def jwt(self, lifetime_s: int = 300) -> str:
        """An app JWT as GitHub wants it (RS256, `iss` the app id, issued a minute in the past)."""
        import jwt

        now = int(time.time())
        return jwt.encode({"iat": now - 60, "exp": now + lifetime_s, "iss": str(self.app_id)},
                          self.private_key_pem, algorithm="RS256")


def rsa_key_pair() -> tuple[str, str]:
    """A fresh 2048-bit RSA key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="session")
def github_emulator_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def github_emulator(github_emulator_server: EmulatorServer) -> Iterator[EmulatorClient]:
    """A clean emulator; the test fails at teardown if any call broke GitHub's REST description."""
    client = EmulatorClient(github_emulator_server.url)
    client.reset()
    yield client
    client.assert_no_violations()


@pytest.fixture(scope="session")
def app_key_pair() -> tuple[str, str]:
    return rsa_key_pair()


@pytest.fixture
def github_app(github_emulator: EmulatorClient, app_key_pair: tuple[str, str]) -> GitHubApp:
    """App `taxonomist` (id 4242) registered and installed on every repository of `octo-org`."""
    private, public = app_key_pair
    github_emulator.add_user(ORG, type="Organization")
    github_emulator.register_app(APP_ID, public, slug=APP_SLUG, owner=ORG, name="Taxonomist")
    installation_id = github_emulator.install(APP_ID, ORG)
    return GitHubApp(APP_ID, APP_SLUG, private, public, installation_id, ORG)


OTHER_APP_ID = 4343
OTHER_APP_SLUG = "impostor"


@pytest.fixture
def other_app(github_app: GitHubApp, github_emulator: EmulatorClient) -> GitHubApp:
    """A second app (`impostor`, id 4343) installed on `octo-org` beside `taxonomist`: its check runs
    and comments are its own, whatever it names them (the trust tests' attacker)."""
    private, public = rsa_key_pair()
    github_emulator.register_app(OTHER_APP_ID, public, slug=OTHER_APP_SLUG, owner=ORG, name="Impostor")
    installation_id = github_emulator.install(OTHER_APP_ID, ORG)
    return GitHubApp(OTHER_APP_ID, OTHER_APP_SLUG, private, public, installation_id, ORG)
