"""A GitHub emulator for tests: a real HTTP server on loopback with state, fault injection and
every call checked against GitHub's REST OpenAPI description. See docs/testing-with-the-emulator.md.
"""

from tests.emulator.client import EmulatorClient, EmulatorError
from tests.emulator.server import EmulatorServer

__all__ = ["EmulatorClient", "EmulatorError", "EmulatorServer"]
