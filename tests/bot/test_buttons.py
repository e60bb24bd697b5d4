"""The "More passages" buttons: bound to their chat, and working on every worker and after a restart,
with the keys in memory, in an SQLite file in INDEX_DIR (one host) or in Redis (several hosts)."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from bot.chat.buttons import more_data
from bot.core.shared.buttons import Buttons, FileButtons, MoreRequest, RedisButtons
from bot.core.shared.link import RedisLink
from index import Engine
from tests.bot.conftest import QUESTION, Bot, MakeBot
from tests.support.recording import Call
from tests.support.redis_server import RedisServer, running_redis
from tests.support.telegram_html import read_html
from tests.support.updates import USER_ID, callback_update, text_update

SALT = b"s" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_key_is_bound_to_its_chat_bounded_and_forgotten_after_the_hours() -> None:
    clock = Clock()
    memory = Buttons(SALT, hours=1, capacity=2, clock=clock)
    first = await memory.remember(10, "vraag een", 5)
    assert await memory.recall(first, 10) == MoreRequest("vraag een", 5)
    assert await memory.recall(first, 11) is None  # a button copied to another chat does not work there
    assert len(more_data(first, 29).encode()) <= 64
    clock.now += 3601
    assert await memory.recall(first, 10) is None
    await memory.remember(10, "twee")
    await memory.remember(10, "drie")
    assert await memory.recall(first, 10) is None  # the oldest are forgotten


async def test_in_a_file_a_key_made_by_one_worker_works_on_another_and_after_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "index" / "buttons.sqlite3"
    one, two = FileButtons(path, SALT, 1, clock=clock), FileButtons(path, SALT, 1, clock=clock)
    key = await one.remember(-100, QUESTION, 7)
    assert await two.recall(key, -100) == MoreRequest(QUESTION, 7)
    assert await FileButtons(path, SALT, 1, clock=clock).recall(key, -100) == MoreRequest(QUESTION, 7)  # restarted
    assert await two.recall(key, 100) is None
    assert await FileButtons(path, b"o" * 32, 1).recall(key, -100) is None  # another bot's salt
    with sqlite3.connect(path) as connection:  # the chat as a keyed hash, not its id
        assert connection.execute("SELECT chat FROM buttons").fetchall() == [(one.chat_tag(-100),)]
    assert one.chat_tag(-100) != "-100" and path.stat().st_mode & 0o077 == 0
    clock.now += 3601
    assert await two.recall(key, -100) is None


async def test_when_the_file_fails_a_button_works_on_its_own_worker(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "buttons.sqlite3").mkdir()  # not a file SQLite can open
    buttons = FileButtons(tmp_path / "buttons.sqlite3", SALT)
    with caplog.at_level(logging.WARNING, "bot.core.shared.buttons"):
        key = await buttons.remember(1, QUESTION)
        assert await buttons.recall(key, 1) == MoreRequest(QUESTION, 0)
        await buttons.remember(1, QUESTION)
    assert len(caplog.records) == 1  # one warning per outage


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path_factory)


async def test_in_redis_a_key_expires_and_falls_back_to_memory_while_redis_is_down(redis_server: RedisServer) -> None:
    link = RedisLink(redis_server.url, "5")
    buttons = RedisButtons(link, SALT, hours=1)
    try:
        key = await buttons.remember(3, QUESTION, 9)
        assert await RedisButtons(link, SALT).recall(key, 3) == MoreRequest(QUESTION, 9)
        assert 0 < await link.client.ttl(f"article-bot:5:button:{key}") <= 3600
        redis_server.stop()
        down = await buttons.remember(3, "tijdens de storing")
        assert await buttons.recall(down, 3) == MoreRequest("tijdens de storing", 0)
    finally:
        redis_server.start()
        await link.aclose()


def _more(calls: list[Call]) -> str:
    (sent,) = calls
    markup = sent.params["reply_markup"]
    assert isinstance(markup, dict)
    return str(markup["inline_keyboard"][0][0]["callback_data"])


async def _next_passages(bot: Bot, data: str, chat_id: int = USER_ID) -> str:
    calls = await bot.send(callback_update(data, chat_id=chat_id, user_id=chat_id))
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"], calls
    return read_html(str(calls[2].params["text"]))[0]


async def _pressed_elsewhere(make_bot: MakeBot, article_engine: Engine, **settings: object) -> None:
    """A button made on one worker, pressed on another, and on a third started afterwards (a restart)."""
    settings = {"corpus_dir": article_engine.config.corpus_dir, **settings}
    one = await make_bot(article_engine, **settings)
    two = await make_bot(article_engine, **settings)
    data = _more(await one.send(text_update(QUESTION)))
    shown = await _next_passages(two, data)
    assert "alinea 7" not in shown and shown.count(" · alinea ") == 3
    restarted = await make_bot(article_engine, **settings)
    assert await _next_passages(restarted, data) == shown
    (foreign,) = await restarted.send(callback_update(data, chat_id=9999, user_id=9999))  # still bound to its chat
    assert foreign.params["text"] == "Deze knop is verlopen. Stel je vraag alsjeblieft opnieuw."


async def test_two_workers_on_one_host_share_the_buttons_in_index_dir(
    make_bot: MakeBot, article_engine: Engine
) -> None:
    await _pressed_elsewhere(make_bot, article_engine)


async def test_two_workers_behind_one_redis_share_the_buttons(
    make_bot: MakeBot, article_engine: Engine, redis_server: RedisServer
) -> None:
    await _pressed_elsewhere(make_bot, article_engine, redis_url=redis_server.url)
    client = Redis.from_url(redis_server.url)
    try:
        keys = client.keys("*:button:*")
        assert keys and all(client.ttl(key) > 0 for key in keys)
        for key in keys:  # the chat as a keyed hash, never its id (the private chat's id is the user's)
            stored = json.loads(client.get(key) or b"{}")
            assert set(stored) == {"chat", "question", "origin", "at"}
            assert re.fullmatch(r"[0-9a-f]{32}", stored["chat"]) and USER_ID not in (stored["origin"], stored["at"])
    finally:
        client.close()
