"""Update ids taken once: in one process, across processes sharing a folder, and across hosts sharing Redis."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.shared.link import RedisLink
from bot.core.shared.updates import FolderUpdateIds, RedisUpdateIds, UpdateIds
from tests.support.redis_server import RedisServer, running_redis


def test_recent_updates_takes_each_id_once_within_its_window() -> None:
    seen = UpdateIds(capacity=3)
    assert [seen.first_time(i) for i in (1, 2, 1, 3, 2)] == [True, True, False, True, False]
    assert seen.first_time(4) and len(seen) == 3  # 1, the oldest, drops out of the window
    assert 1 not in seen and seen.first_time(1)


def test_workers_sharing_a_folder_take_each_id_once(tmp_path: Path) -> None:
    a, b = FolderUpdateIds(tmp_path / "seen"), FolderUpdateIds(tmp_path / "seen")
    assert a.first_time(10) and not b.first_time(10) and not a.first_time(10)
    assert b.first_time(11) and not a.first_time(11)
    assert not FolderUpdateIds(tmp_path / "seen").first_time(11)  # a worker started later sees it too


def test_old_records_are_pruned(tmp_path: Path) -> None:
    seen = FolderUpdateIds(tmp_path / "seen", keep_seconds=60, prune_every=3)
    seen.first_time(1)
    hour_ago = time.time() - 3600
    os.utime(tmp_path / "seen" / "1", (hour_ago, hour_ago))
    seen.first_time(2)
    seen.first_time(3)  # the third insert prunes
    assert sorted(p.name for p in (tmp_path / "seen").iterdir()) == ["2", "3"]


def test_an_unusable_folder_falls_back_to_this_process(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    seen = FolderUpdateIds(blocker / "seen")
    assert seen.first_time(1) and not seen.first_time(1)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path_factory)


async def test_workers_sharing_redis_take_each_id_once(redis_server: RedisServer) -> None:
    a, b, other_bot = (
        RedisLink(redis_server.url, "111"),
        RedisLink(redis_server.url, "111"),
        RedisLink(redis_server.url, "222"),
    )
    try:
        first, second, third = RedisUpdateIds(a), RedisUpdateIds(b), RedisUpdateIds(other_bot)
        assert await first.take(10) and not await second.take(10) and not await first.take(10)
        assert await second.take(11) and not await first.take(11)
        assert await third.take(10)  # another bot's update 10 is another update
        assert 3590 < await a.client.ttl("article-bot:111:update:10") <= 3600
        # A burst of 500 at once queues for the pool's connections instead of failing open.
        taken = await asyncio.gather(*(first.take(n) for n in range(1000, 1500)))
        again = await asyncio.gather(*(second.take(n) for n in range(1000, 1500)))
        assert all(taken) and not any(again) and not a.down and not b.down
    finally:
        for link in (a, b, other_bot):
            await link.aclose()


async def test_with_redis_down_each_worker_decides_alone_and_shares_again_when_it_is_back(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = RedisLink(redis_server.url, "333", retry_seconds=0.2), RedisLink(redis_server.url, "333", retry_seconds=0.2)
    first, second = RedisUpdateIds(a), RedisUpdateIds(b)
    caplog.set_level(logging.WARNING, logger="bot.core.shared.link")
    try:
        assert await first.take(1) and not await second.take(1)
        redis_server.stop()
        try:
            started = time.monotonic()
            assert await first.take(2) and await second.take(2)  # fails open: a copy on another worker is answered
            assert not await first.take(2) and not await second.take(2)  # a copy to the same worker is not
            assert all([await first.take(n) for n in range(3, 200)])
            assert time.monotonic() - started < 2  # no update waits for the lost Redis
            lost = [r for r in caplog.records if "is not answering" in r.getMessage()]
            assert len(lost) == 2  # one warning per worker and outage, not per update
            assert redis_server.password and redis_server.password not in caplog.text
        finally:
            redis_server.start()
        await asyncio.sleep(0.3)  # past retry_seconds: the next update tries Redis again
        assert await first.take(300) and not await second.take(300)
        assert sum("answers again" in r.getMessage() for r in caplog.records) == 2
    finally:
        await a.aclose()
        await b.aclose()


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_transient_folder_error_is_retried_and_sharing_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, clock = tmp_path / "seen", Clock()
    a, b = (FolderUpdateIds(folder, retry_seconds=5, clock=clock) for _ in range(2))
    caplog.set_level(logging.INFO, logger="bot.core.shared.updates")
    folder.rename(tmp_path / "away")
    folder.write_text("a file where the folder was: every open fails, like the open-file limit would")
    assert a.first_time(1)  # fails open: this worker answers
    folder.unlink()
    (tmp_path / "away").rename(folder)
    clock.now += 1
    assert a.first_time(2) and not a.first_time(2)  # within the back-off: this process's memory
    clock.now += 5
    assert a.first_time(3) and not b.first_time(3)  # shared again: the copy on the other worker is not answered
    assert b.first_time(4) and not a.first_time(4)
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]  # lost once, back once
    assert "again every 5 s" in caplog.records[0].getMessage() and "again" in caplog.records[1].getMessage()


@pytest.mark.parametrize("update_id", [int("9" * 4000), 2**63, 0, -5, True])
def test_an_id_no_telegram_update_has_is_refused_before_the_file_system(tmp_path: Path, update_id: int) -> None:
    seen = FolderUpdateIds(tmp_path / "seen")
    assert not seen.first_time(update_id) and not UpdateIds().first_time(update_id)
    assert list((tmp_path / "seen").iterdir()) == []
    assert seen.first_time(2**63 - 1) and seen.first_time(5) and not FolderUpdateIds(tmp_path / "seen").first_time(5)
