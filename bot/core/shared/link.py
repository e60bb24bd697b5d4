"""The Redis that workers on several hosts share (``REDIS_URL``), and what to do while it is down.

Update ids taken (``bot.core.shared.updates``), the per-user question window
(``bot.core.shared.throttle``), the bot's reply budget (``bot.core.shared.reply_budget``), the
"More passages" keys and the chats' follow-up turns are kept in one Redis when ``REDIS_URL`` is set.
Each of them fails open: when Redis does not answer within a second, it falls back to what this
process knows (its own update ids, its own window, its own budget) rather than refuse an update.
``RedisLink`` tracks the outage: one warning when Redis is lost, one line when it is back, and
while it is down only one request per ``retry_seconds`` tries it, so the others do not wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "article-bot"
TIMEOUT_SECONDS = 1.0  # a reply waits this long at most for a Redis that has stopped answering
RETRY_SECONDS = 5.0  # while Redis is down, how often one request tries it again
MAX_CONNECTIONS = 32  # per process; a command takes well under a millisecond
POOL_WAIT_SECONDS = 5.0  # how long a command may queue for one of them
# What a Redis call raises when Redis is down, slow, refuses us or is not Redis at all.
FAILURES = (RedisError, OSError, asyncio.TimeoutError)

T = TypeVar("T")


class RedisDown(Exception):
    """Redis is not tried now (an outage, between retries) or has just failed: fall back."""


def where(url: str) -> str:
    """``url`` without user or password, for log lines."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class RedisLink:
    """A Redis client for ``url`` with keys under ``article-bot:<bot id>:``, and whether Redis answers.

    Callers send their commands through ``run``, which raises ``RedisDown`` when they should fall
    back to what this process knows. Not thread-safe: used from the event loop only.
    """

    def __init__(
        self,
        url: str,
        bot_id: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # A bounded pool that makes a burst of updates queue for a connection (the default pool
        # refuses the 101st at once); one immediate retry, as a pooled connection to a Redis that
        # restarted fails once, then reconnects.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
        )
        self.client: Redis = Redis.from_pool(pool)
        self.where = where(url)
        self.prefix = f"{KEY_PREFIX}:{bot_id}"
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._next_try = 0.0

    @classmethod
    def for_bot(cls, url: str, token: str) -> RedisLink:
        """The link for the bot with ``token``: its keys carry the bot id (the token's part before ``:``)."""
        return cls(url, token.split(":", 1)[0])

    def key(self, *parts: object) -> str:
        """``article-bot:<bot id>:<part>:<part>...``, so two bots can share one Redis."""
        return ":".join((self.prefix, *map(str, parts)))

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def usable(self) -> bool:
        """Whether to try Redis now: always while it answers; once every ``retry_seconds`` while down."""
        if self._down_since is None:
            return True
        now = self._clock()
        if now < self._next_try:
            return False
        self._next_try = now + self.retry_seconds
        return True

    def lost(self, exc: Exception) -> None:
        """Redis failed: the first failure of an outage is logged, the rest are not."""
        now = self._clock()
        self._next_try = now + self.retry_seconds
        if self._down_since is None:
            self._down_since = now
            logger.warning(
                "Redis at %s is not answering (%s: %s): update ids, the question throttle and the reply budget "
                "are this process's own until it is back",
                self.where,
                type(exc).__name__,
                exc,
            )

    def back(self) -> None:
        """Redis answered: the end of an outage is logged."""
        if self._down_since is not None:
            logger.warning("Redis at %s answers again after %.0f s", self.where, self._clock() - self._down_since)
            self._down_since = None

    async def run(self, command: Callable[[], Awaitable[T]]) -> T:
        """What ``command`` returns; RedisDown when Redis is not to be tried now or fails (noted)."""
        if not self.usable():
            raise RedisDown
        try:
            result = await command()
        except FAILURES as exc:
            self.lost(exc)
            raise RedisDown from exc
        self.back()
        return result

    async def ping(self) -> bool:
        """Whether Redis answers now (and note it)."""
        try:
            await self.client.ping()
        except FAILURES as exc:
            self.lost(exc)
            return False
        self.back()
        return True

    async def aclose(self) -> None:
        await self.client.aclose()
