"""The per-user throttle: a sliding window of costs per user, with an honest wait; in Redis, one for all workers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.chat.fairness import question_cost
from bot.core.shared.link import RedisLink
from bot.core.shared.throttle import RedisThrottle, Throttle
from tests.support.redis_server import RedisServer, running_redis


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_user_gets_n_questions_per_window_then_a_wait() -> None:
    clock = Clock()
    throttle = Throttle(3, 10.0, clock)
    assert [throttle.wait(1) for _ in range(3)] == [0, 0, 0]
    clock.now += 4
    assert throttle.wait(1) == 6  # the first question leaves the window in 6 s
    assert throttle.wait(2) == 0  # other users are not affected
    clock.now += 6  # all three have left the window
    assert [throttle.wait(1) for _ in range(3)] == [0, 0, 0]
    clock.now += 2.5
    assert throttle.wait(1) == 8  # rounded up to whole seconds


def test_refused_questions_do_not_extend_the_wait() -> None:
    clock = Clock()
    throttle = Throttle(1, 10.0, clock)
    assert throttle.wait(1) == 0
    for _ in range(20):
        clock.now += 0.4
        assert throttle.wait(1) > 0
    clock.now = 1010.0
    assert throttle.wait(1) == 0


def test_a_question_costs_its_length_in_short_questions_at_most_the_whole_window() -> None:
    assert [question_cost("x" * n, 200, 5) for n in (1, 200, 201, 999, 1000, 4000)] == [1, 1, 2, 5, 5, 5]


def test_costly_requests_fill_the_window_sooner_and_wait_for_room() -> None:
    clock = Clock()
    throttle = Throttle(5, 10.0, clock)
    assert throttle.wait(1, 3) == 0
    clock.now += 2
    assert throttle.wait(1, 1) == 0
    assert throttle.wait(1, 2) == 8  # room for 2 units only once the first 3 leave, at 10 s
    assert throttle.wait(1, 1) == 0  # the fifth unit still fits
    clock.now += 8
    assert throttle.wait(1, 9) == 2  # more than the window counts as the window: it waits for all of it
    clock.now += 2
    assert throttle.wait(1, 9) == 0
    assert throttle.wait(2, 5) == 0  # other users are not affected


def test_a_waiting_reader_is_told_once_until_the_wait_is_over() -> None:
    clock = Clock()
    throttle = Throttle(1, 10.0, clock)

    async def told() -> list[bool]:
        return [await throttle.tell(1, 4) for _ in range(3)] + [await throttle.tell(2, 4)]

    assert asyncio.run(told()) == [True, False, False, True]
    clock.now += 4
    assert asyncio.run(told()) == [True, False, False, True]


def test_idle_users_are_forgotten() -> None:
    clock = Clock()
    throttle = Throttle(1, 1.0, clock)
    for user in range(10_001):
        throttle.wait(user)
    clock.now += 5
    throttle.wait(-1)
    assert len(throttle._seen) == 1


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path_factory)


async def test_in_redis_a_user_gets_n_questions_per_window_across_workers(redis_server: RedisServer) -> None:
    a, b = RedisLink(redis_server.url, "1"), RedisLink(redis_server.url, "1")
    first, second = RedisThrottle(a, 3, 2.0), RedisThrottle(b, 3, 2.0)
    try:
        assert [await first.check(7), await second.check(7), await first.check(7)] == [0, 0, 0]
        assert await second.check(7) == 2  # the first question leaves the window in just under 2 s
        assert await first.check(8) == 0  # other users are not affected
        for _ in range(10):  # refused questions do not extend the wait
            assert await second.check(7) > 0
        await asyncio.sleep(2.05)
        assert [await second.check(7) for _ in range(3)] == [0, 0, 0]
        assert 0 < await a.client.pttl("article-bot:1:throttle:7") <= 2000  # an idle user's window expires
    finally:
        await a.aclose()
        await b.aclose()


async def test_in_redis_costs_are_weighed_and_a_waiting_reader_told_once_across_workers(
    redis_server: RedisServer,
) -> None:
    a, b = RedisLink(redis_server.url, "4"), RedisLink(redis_server.url, "4")
    first, second = RedisThrottle(a, 5, 2.0), RedisThrottle(b, 5, 2.0)
    try:
        assert [await first.check(7, 3), await second.check(7, 2)] == [0, 0]
        assert await second.check(7) == 2  # five units used: the window is full
        assert await first.check(8, 9) == 0  # more than the window counts as the window
        assert await first.check(8) > 0
        assert [await first.tell(7, 2), await second.tell(7, 2), await first.tell(7, 2)] == [True, False, False]
        assert await a.client.exists("article-bot:4:throttle-told:7")
        seconds, micros = await a.client.time()  # a member without a cost (an older worker's) counts 1
        await a.client.zadd("article-bot:4:throttle:9", {"legacy-member": seconds * 1000 + micros // 1000})
        assert [await second.check(9, 4), await second.check(9)] == [0, 2]
        await asyncio.sleep(2.05)
        assert [await second.check(7, 5), await first.tell(7, 2)] == [0, True]
    finally:
        await a.aclose()
        await b.aclose()


async def test_in_redis_the_question_and_inline_windows_count_apart(redis_server: RedisServer) -> None:
    link = RedisLink(redis_server.url, "3")
    questions, inline = RedisThrottle(link, 1, 5.0), RedisThrottle(link, 2, 5.0, "inline")
    try:
        assert [await inline.check(7), await inline.check(7)] == [0, 0]
        assert await inline.check(7) > 0
        assert await questions.check(7) == 0  # typing inline queries does not use up the user's questions
        assert await link.client.zcard("article-bot:3:inline:7") == 2
        assert await link.client.zcard("article-bot:3:throttle:7") == 1
    finally:
        await link.aclose()


async def test_with_redis_down_each_worker_keeps_its_own_window(redis_server: RedisServer) -> None:
    a, b = RedisLink(redis_server.url, "2"), RedisLink(redis_server.url, "2")
    first, second = RedisThrottle(a, 2, 10.0), RedisThrottle(b, 2, 10.0)
    redis_server.stop()
    try:
        assert [await first.check(7) for _ in range(3)] == [0, 0, 10]  # this worker's window still counts
        assert await second.check(7) == 0  # fails open: the other worker does not know these
        assert a.down and b.down
    finally:
        redis_server.start()
        await a.aclose()
        await b.aclose()
