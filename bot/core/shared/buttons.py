"""What "More passages" buttons point at, kept where every worker of the bot finds it.

A button's callback data holds 64 bytes at most, so it carries a short random key; the key
stands for the chat it was made in, the question and the message that asked it (which keys the
answer's feedback). ``Buttons`` keeps keys in this process; ``FileButtons`` in an SQLite file in
INDEX_DIR, shared by the workers of one host and kept across restarts; ``RedisButtons`` in the
Redis of ``REDIS_URL``, for workers on several hosts. Each keeps a key ``MORE_BUTTON_HOURS`` and
falls back to this process's memory while its store fails, so a button works at least on the
worker that made it. A key is bound to its chat (stored as a keyed hash of the chat id, salted
from the bot's token): pressed in another chat it is unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.core.shared.link import RedisDown, RedisLink
from bot.core.shared.recent import Recent, Salted

logger = logging.getLogger(__name__)

CAPACITY = 10_000  # keys kept in one process; the oldest are forgotten first
BUSY_SECONDS = 0.25  # a button waits this long at most for a file another worker holds locked
PURGE_SECONDS = 3600.0  # expired rows are deleted from the file at most this often
_SCHEMA = """
CREATE TABLE IF NOT EXISTS buttons (
  key TEXT PRIMARY KEY, chat TEXT NOT NULL, question TEXT NOT NULL, origin INTEGER NOT NULL, at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS buttons_at ON buttons (at);
"""

T = TypeVar("T")


@dataclass(frozen=True)
class MoreRequest:
    """What a button asks for: the next passages of ``question``, asked in message ``origin`` (0: unknown)."""

    question: str
    origin: int


@dataclass(frozen=True)
class _Entry:
    chat: str
    question: str
    origin: int
    at: float


class Buttons(Salted):
    """Keys in this process, each forgotten ``hours`` after it was made; used from the event loop only."""

    def __init__(
        self, salt: bytes = b"", hours: float = 48, *, capacity: int = CAPACITY, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(salt or secrets.token_bytes(32), hours * 3600, clock)
        self._entries: Recent[str, _Entry] = Recent(capacity)

    def chat_tag(self, chat_id: int) -> str:
        """The chat as stored: a keyed hash, the same on every worker of the bot."""
        return self.keyed(f"button-chat:{chat_id}")

    async def remember(self, chat_id: int, question: str, origin: int = 0) -> str:
        """A new key for ``question`` asked in ``chat_id`` in message ``origin`` (0 when no store can
        hold that id: its answers are not recorded either)."""
        origin = origin if 0 < origin < 2**63 else 0
        key = secrets.token_urlsafe(6)
        self._keep(key, _Entry(self.chat_tag(chat_id), question, origin, self.clock()))
        return key

    async def recall(self, key: str, chat_id: int) -> MoreRequest | None:
        """What ``key`` asks for, only in the chat it was made in and while it is fresh; else None."""
        return self._local(key, chat_id)

    def _found(self, entry: _Entry | None, chat_id: int) -> MoreRequest | None:
        if entry is None or entry.chat != self.chat_tag(chat_id) or self.expired(entry.at):
            return None
        return MoreRequest(entry.question, entry.origin)

    def _keep(self, key: str, entry: _Entry) -> None:
        self._entries.put(key, entry)

    def _local(self, key: str, chat_id: int) -> MoreRequest | None:
        return self._found(self._entries.get(key), chat_id)


class FileButtons(Buttons):
    """Keys in the SQLite file ``path`` (and in memory, which answers while the file fails).

    SQLite runs in a thread of its own, never in the threads that search, so a slow disk or a
    file locked by another worker delays no answer by more than ``BUSY_SECONDS``.
    """

    def __init__(self, path: Path, salt: bytes = b"", hours: float = 48, **kwargs: object) -> None:
        super().__init__(salt, hours, **kwargs)  # type: ignore[arg-type]
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="buttons")
        self._ready = False
        self._failing = False
        self._purged_at = float("-inf")

    async def remember(self, chat_id: int, question: str, origin: int = 0) -> str:
        key = await super().remember(chat_id, question, origin)
        entry = self._entries[key]
        await self._run(self._write, key, entry)
        return key

    async def recall(self, key: str, chat_id: int) -> MoreRequest | None:
        entry = await self._run(self._read, key)
        return self._found(entry, chat_id) or self._local(key, chat_id)

    async def _run(self, action: Callable[..., T], *args: object) -> T | None:
        """``action(*args)`` in the file's thread; None when the file fails (logged once per outage)."""
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._thread, action, *args)
        except (sqlite3.Error, OSError) as exc:
            if not self._failing:
                logger.warning("'More passages' buttons kept in memory only: %s: %s", self.path, exc)
            self._failing = True
            return None
        if self._failing:
            logger.warning("'More passages' buttons kept in %s again", self.path)
            self._failing = False
        return result

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))  # questions: readable by the bot only
        connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            if not self._ready:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.executescript(_SCHEMA)
                self._ready = True
            yield connection
        finally:
            connection.close()

    def _write(self, key: str, entry: _Entry) -> None:
        with self._connection() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO buttons VALUES (?, ?, ?, ?, ?)",
                (key, entry.chat, entry.question, entry.origin, entry.at),
            )
            if entry.at - self._purged_at > PURGE_SECONDS:
                connection.execute("DELETE FROM buttons WHERE at < ?", (entry.at - self.seconds,))
                self._purged_at = entry.at

    def _read(self, key: str) -> _Entry | None:
        with self._connection() as connection:
            row = connection.execute("SELECT chat, question, origin, at FROM buttons WHERE key = ?", (key,)).fetchone()
        return _Entry(str(row[0]), str(row[1]), int(row[2]), float(row[3])) if row else None


class RedisButtons(Buttons):
    """Keys in Redis (``article-bot:<bot id>:button:<key>``, expiring after ``hours``), and in this
    process as well, which answers while Redis is down."""

    def __init__(self, link: RedisLink, salt: bytes = b"", hours: float = 48, **kwargs: object) -> None:
        super().__init__(salt, hours, **kwargs)  # type: ignore[arg-type]
        self.link = link

    async def remember(self, chat_id: int, question: str, origin: int = 0) -> str:
        key = await super().remember(chat_id, question, origin)
        entry = self._entries[key]
        payload = json.dumps({"chat": entry.chat, "question": entry.question, "origin": entry.origin, "at": entry.at})
        expiry = max(1, round(self.seconds))
        with contextlib.suppress(RedisDown):  # while Redis is down the button works on this worker
            await self.link.run(lambda: self.link.client.set(self.link.key("button", key), payload, ex=expiry))
        return key

    async def recall(self, key: str, chat_id: int) -> MoreRequest | None:
        try:
            raw = await self.link.run(lambda: self.link.client.get(self.link.key("button", key)))
        except RedisDown:
            return self._local(key, chat_id)
        if raw is None:  # expired, or made on this worker while Redis was down
            return self._local(key, chat_id)
        try:
            found = json.loads(raw)
            entry = _Entry(str(found["chat"]), str(found["question"]), int(found["origin"]), float(found["at"]))
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("ignoring an unreadable button in Redis: %s", type(exc).__name__)
            return None
        return self._found(entry, chat_id)
