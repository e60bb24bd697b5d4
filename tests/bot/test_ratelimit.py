"""The reply budget in Redis: two processes' limiters together keep one bot's limits, 429s pause both."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.chat.ratelimit import RedisRateLimiter, group_of
from bot.core.shared.link import RedisLink
from tests.support.redis_server import RedisServer, running_redis


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path_factory)


@pytest.fixture
async def two_workers(redis_server: RedisServer, request: pytest.FixtureRequest) -> AsyncIterator[list[RedisLink]]:
    """Two links to one Redis for one bot (a new bot id per test), as two worker processes have."""
    bot_id = request.node.name
    links = [RedisLink(redis_server.url, bot_id, retry_seconds=0.2) for _ in range(2)]
    yield links
    for link in links:
        await link.aclose()


class Sent:
    """A Bot API call that records when it was made; raises ``RetryAfter`` ``floods`` times first."""

    def __init__(self, floods: int = 0) -> None:
        self.at: list[float] = []
        self.floods = floods

    async def __call__(self) -> bool:
        if self.floods:
            self.floods -= 1
            raise RetryAfter(timedelta(seconds=1))
        self.at.append(time.monotonic())
        return True

    def most_in(self, seconds: float) -> int:
        """The most calls in any window of ``seconds``."""
        times = sorted(self.at)
        return max(sum(1 for t in times if start <= t < start + seconds) for start in times)


async def send(limiter: RedisRateLimiter, sent: Sent, chat_id: int | str) -> Any:
    return await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": chat_id, "text": "hi"}, None)


def test_groups_are_negative_ids_and_names_as_in_python_telegram_bot() -> None:
    assert [group_of(c) for c in (5, "5", -100123, "-100123", "@news", None)] == [
        None, None, -100123, -100123, "@news", None,
    ]  # fmt: skip


async def test_two_workers_share_one_budget(two_workers: list[RedisLink]) -> None:
    limiters = [RedisRateLimiter(link, overall_max_rate=10) for link in two_workers]
    sent = Sent()
    started = time.monotonic()
    await asyncio.gather(*(send(limiter, sent, chat) for chat in range(20) for limiter in limiters))
    # 40 messages at 10 a second after a burst of 10 take 3 s; a budget per worker would take 1 s.
    assert time.monotonic() - started > 2.8
    assert len(sent.at) == 40 and sent.most_in(1.0) <= 20  # the burst and one second's rate, in all


async def test_a_groups_budget_is_shared_too(two_workers: list[RedisLink]) -> None:
    limiters = [RedisRateLimiter(link, group_max_rate=3, group_time_period=1) for link in two_workers]
    sent, other = Sent(), Sent()
    started = time.monotonic()
    await asyncio.gather(
        *(send(limiter, sent, -100) for _ in range(3) for limiter in limiters), send(limiters[0], other, -200)
    )
    assert time.monotonic() - started > 0.9  # 6 messages to one group at 3 a second, after a burst of 3
    assert other.at[0] - started < 0.5  # another group is not held up


# python-telegram-bot's own RetryAfter reads its deprecated int ``retry_after`` when it is made.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_on_one_worker_pauses_both_and_is_retried(two_workers: list[RedisLink]) -> None:
    first, second = (RedisRateLimiter(link, max_retries=2) for link in two_workers)
    flooded, later = Sent(floods=1), Sent()
    started = time.monotonic()
    retried = asyncio.create_task(send(first, flooded, 1))
    await asyncio.sleep(0.2)  # the 429 has come back to the first worker
    assert await send(second, later, 2)
    assert await retried
    assert later.at[0] - started > 1.0  # retry_after 1 s, plus 0.1 s, for every worker
    assert flooded.at[0] - started > 1.0


async def test_with_redis_down_each_worker_keeps_its_own_budget(
    two_workers: list[RedisLink], redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiters = [RedisRateLimiter(link, overall_max_rate=10) for link in two_workers]
    caplog.set_level(logging.WARNING, logger="bot.core.shared.link")
    redis_server.stop()
    try:
        sent = Sent()
        started = time.monotonic()
        await asyncio.gather(*(send(limiter, sent, chat) for chat in range(20) for limiter in limiters))
        # Nothing is refused: each worker sends with python-telegram-bot's own limiter, 10 a second each.
        assert len(sent.at) == 40 and time.monotonic() - started < 2.0
        assert sum("is not answering" in r.getMessage() for r in caplog.records) == 2
    finally:
        redis_server.start()
    await asyncio.sleep(0.3)
    sent = Sent()
    await asyncio.gather(*(send(limiter, sent, chat) for chat in range(5) for limiter in limiters))
    assert not any(link.down for link in two_workers)  # back on the shared budget
