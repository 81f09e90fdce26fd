"""Webhook signatures as GitHub computes them (the example from GitHub's documentation)."""

from __future__ import annotations

from bot.service.signature import sign, verify

# docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody", body "Hello, World!"
GITHUB_EXAMPLE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_matches_githubs_documented_example() -> None:
    assert sign("It's a Secret to Everybody", b"Hello, World!") == GITHUB_EXAMPLE
    assert verify("It's a Secret to Everybody", b"Hello, World!", GITHUB_EXAMPLE)


def test_rejects_missing_wrong_and_changed_body() -> None:
    good = sign("s3cret", b"{}")
    assert not verify("s3cret", b"{}", None)
    assert not verify("s3cret", b"{}", "")
    assert not verify("s3cret", b"{}", good.replace("sha256=", "sha1="))
    assert not verify("other", b"{}", good)
    assert not verify("s3cret", b"{ }", good)
