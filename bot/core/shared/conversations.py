"""What each chat was just talking about, for follow-up questions (see ``index.followups``).

A chat's last turn (the question, what it was taken to mean, the paragraphs that answered it) is
kept for ``FOLLOWUP_MINUTES`` under a key: the chat's, for the next message in a private chat,
and one per message of the bot's answer, for a reply to that answer (in a group the thread of
replies continues its own answer, whatever else is said in between). Keys are keyed hashes of
the chat and message ids, with a salt derived from the bot's token, so no id appears in memory
or in Redis, and every worker of the bot finds the same key. Nothing here is written to disk.

``Conversations`` keeps turns in this process; ``RedisConversations`` keeps them in the Redis of
``REDIS_URL`` with an expiry, so a follow-up that reaches another worker is understood the same
way, and falls back to this process's own turns while Redis is down (``bot.core.shared``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterable

from bot.core.shared.link import RedisDown, RedisLink
from bot.core.shared.recent import Recent, Salted
from index.followups import Turn

logger = logging.getLogger(__name__)

CAPACITY = 10_000  # keys kept in one process; the oldest are forgotten first


def salt_for(token: str | None) -> bytes:
    """The key salt: derived from the bot's token (secret, and the same on every worker), else random."""
    if not token:
        return secrets.token_bytes(32)
    return hmac.new(token.encode(), b"article-bot follow-up keys", hashlib.sha256).digest()


class Conversations(Salted):
    """Turns in this process, each forgotten ``minutes`` after it was asked (0: never kept).

    ``clock`` gives seconds; tests pass their own. Not thread-safe: used from the event loop only.
    """

    def __init__(
        self,
        salt: bytes,
        minutes: float = 10,
        *,
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(salt, minutes * 60, clock)
        self._turns: Recent[str, Turn] = Recent(capacity)

    def chat_key(self, chat_id: int) -> str:
        """The key of a chat's latest turn."""
        return self.keyed(f"chat:{chat_id}")

    def reply_key(self, chat_id: int, message_id: int) -> str:
        """The key of the turn the bot's message ``message_id`` answered."""
        return self.keyed(f"reply:{chat_id}:{message_id}")

    def fresh(self, turn: Turn | None) -> Turn | None:
        """``turn`` while it is younger than ``minutes``, else None."""
        if turn is None or self.expired(turn.at):
            return None
        return turn

    async def recall(self, key: str) -> Turn | None:
        """The turn under ``key``, when it is still fresh."""
        return self._local(key)

    async def keep(self, keys: Iterable[str], turn: Turn) -> None:
        """Keep ``turn`` under each of ``keys``."""
        self._store(list(keys), turn)

    async def forget(self, key: str) -> None:
        """Forget the turn under ``key`` (/start, /help: the chat starts afresh)."""
        self._turns.pop(key)

    def stamp(self, turn: Turn) -> Turn:
        """``turn`` dated now."""
        return Turn(turn.question, turn.meaning, turn.passages, turn.followups, self.clock())

    def _local(self, key: str) -> Turn | None:
        turn = self.fresh(self._turns.get(key))
        if turn is None:
            self._turns.pop(key)
        return turn

    def _store(self, keys: list[str], turn: Turn) -> None:
        if self.seconds <= 0:
            return
        for key in keys:
            self._turns.put(key, turn)


class RedisConversations(Conversations):
    """Turns in Redis (``article-bot:<bot id>:followup:<key>``, expiring after ``minutes``), and in
    this process as well, which answers while Redis is down."""

    def __init__(self, link: RedisLink, salt: bytes, minutes: float = 10, **kwargs: object) -> None:
        super().__init__(salt, minutes, **kwargs)  # type: ignore[arg-type]
        self.link = link

    async def recall(self, key: str) -> Turn | None:
        try:
            raw = await self.link.run(lambda: self.link.client.get(self.link.key("followup", key)))
        except RedisDown:
            return self._local(key)
        if raw is None:
            return None  # expired, forgotten, or never kept: another worker may have forgotten it
        try:
            return self.fresh(Turn.from_json(json.loads(raw)))
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning("ignoring an unreadable follow-up turn in Redis: %s", type(exc).__name__)
            return None

    async def keep(self, keys: Iterable[str], turn: Turn) -> None:
        keys = list(keys)
        self._store(keys, turn)
        if self.seconds <= 0 or not keys:
            return
        payload = json.dumps(turn.to_json(), ensure_ascii=False)
        expiry = max(1, round(self.seconds))

        async def write() -> None:
            async with self.link.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(self.link.key("followup", key), payload, ex=expiry)
                await pipe.execute()

        # While Redis is down this process remembers it; another worker takes the follow-up alone.
        with contextlib.suppress(RedisDown):
            await self.link.run(write)

    async def forget(self, key: str) -> None:
        await super().forget(key)
        with contextlib.suppress(RedisDown):
            await self.link.run(lambda: self.link.client.delete(self.link.key("followup", key)))
