"""Whose words a comment's commands are: an edit by anyone but the comment's author changes nothing.

GitHub lets people with write access edit anyone's comment, and its REST API shows only the latest
text, not who wrote it. The `issue_comment.edited` webhook does say who edited (`sender`) and what
the text was before (`changes.body.from`). So the review route remembers, per comment, the text its
author last left when someone else edits it (the first such edit wins: later ones by others keep
it), and forgets it when the author edits the comment again. The review state then reads that
text instead of the comment's current one: another account's edit can neither make a vote, nor
cancel one, nor lift a hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class Memory(Protocol):
    """The bot's durable key-value memory per repository (`bot.dashboard.store.Store` is one)."""

    def claim(self, repo: str, key: str, value: Any) -> bool: ...

    def recall(self, repo: str, key: str) -> Any: ...

    def forget(self, repo: str, key: str) -> None: ...


def _key(comment_id: int) -> str:
    return f"authored-body:{comment_id}"


def _login(data: object) -> str:
    login = data.get("login") if isinstance(data, dict) else None
    return login.lower() if isinstance(login, str) else ""


def foreign_edit(payload: dict[str, Any]) -> bool:
    """Whether an `issue_comment.edited` delivery is an edit by someone other than the comment's author."""
    comment = payload.get("comment")
    author = _login(comment.get("user")) if isinstance(comment, dict) else ""
    return payload.get("action") == "edited" and _login(payload.get("sender")) != author


def note_edit(memory: Memory, repo: str, payload: dict[str, Any]) -> None:
    """Remember the author's text on an edit by someone else; forget it on an edit by the author."""
    comment = payload.get("comment")
    if payload.get("action") != "edited" or not isinstance(comment, dict) or not isinstance(comment.get("id"), int):
        return
    if not foreign_edit(payload):
        memory.forget(repo, _key(comment["id"]))
        return
    changes = payload.get("changes")
    body = changes.get("body") if isinstance(changes, dict) else None
    before = body.get("from") if isinstance(body, dict) else None
    memory.claim(repo, _key(comment["id"]), before if isinstance(before, str) else "")  # unknown: no commands


def authored_bodies(memory: Memory | None, repo: str, comment_ids: Iterable[int]) -> dict[int, str]:
    """Comment id -> the text its author last left, for the comments someone else edited since."""
    if memory is None:
        return {}
    found = {cid: memory.recall(repo, _key(cid)) for cid in comment_ids}
    return {cid: body for cid, body in found.items() if isinstance(body, str)}
