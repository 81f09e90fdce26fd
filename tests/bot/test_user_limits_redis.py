"""Per-user command limits counted in a real Redis: two web processes behind a load balancer allow one
person `limit` commands in the window between them, not twice that (issue 24)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bot.service import ratelimit
from bot.service.ratelimit import UserRateLimit, share_user_limits
from tests.bot.services import missing, redis_server

pytestmark = pytest.mark.skipif(missing("redis") is not None, reason=str(missing("redis")))


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def shared(redis_url: str, limit: int = 3, window: float = 60.0) -> UserRateLimit:
    counter = UserRateLimit(limit, window)
    counter.share(redis.Redis.from_url(redis_url))
    return counter


def test_two_processes_share_one_count_per_person(redis_url: str) -> None:
    web1, web2 = shared(redis_url), shared(redis_url)  # each with its own connection, as two machines
    answers = [(web1 if n % 2 else web2).allow("o/t", "Alice") for n in range(6)]
    assert answers == [True, True, True, False, False, False]
    assert web1.allow("o/t", "alice") is False  # the same person, however GitHub capitalises the login
    assert web2.allow("o/other", "alice") is True and web1.allow("o/t", "bob") is True


def test_the_window_slides(redis_url: str) -> None:
    counter = shared(redis_url, limit=1, window=0.3)
    assert counter.allow("o/t", "carol") is True and counter.allow("o/t", "carol") is False
    import time

    time.sleep(0.4)
    assert counter.allow("o/t", "carol") is True


def test_hostile_names_stay_in_their_own_key(redis_url: str) -> None:
    counter = shared(redis_url, limit=1)
    for name in ["*", "taxonomist:user-limit:*", "a\x00b", "\ud800", "x" * 100_000, "' OR 1=1"]:
        assert counter.allow("o/t", name) is True and counter.allow("o/t", name) is False
    assert counter.allow("o/t", "dave") is True
    keys = redis.Redis.from_url(redis_url).keys("taxonomist:user-limit:*")
    assert keys and all(len(k) == len("taxonomist:user-limit:") + 64 for k in keys)


def test_share_user_limits_moves_the_bots_own_limits(redis_url: str) -> None:
    from bot.review import handler

    share_user_limits(redis_url)
    try:
        assert handler.COMMANDS in ratelimit.USER_LIMITS and handler.COMMANDS._script is not None
        allowed = [handler.COMMANDS.allow("o/shared", "erin") for _ in range(handler.COMMAND_RATE[0] + 1)]
        assert allowed == [True] * handler.COMMAND_RATE[0] + [False]
    finally:
        for limit in ratelimit.USER_LIMITS:
            limit._script = None
