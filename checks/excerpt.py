"""One way to shorten text for people: one line, whitespace collapsed, at most `limit` characters.

Used wherever a piece of user text is quoted back (finding messages, the bot's comment and
statuses), so a quote is cut the same way everywhere.
"""

from __future__ import annotations


def excerpt(text: str, limit: int = 80) -> str:
    """`text` on one line, ending with "…" when it had to be cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"
