"""The bot's reply budget shared by every worker through Redis, as python-telegram-bot's rate limiter.

Telegram limits a bot, not a process, to about 30 messages a second (20 a minute in one group).
python-telegram-bot's ``AIORateLimiter`` counts in one process, so N workers could send N times
too much; ``RedisRateLimiter`` counts the same budget in Redis (``bot.core.shared.reply_budget``),
keeps ``AIORateLimiter``'s structure (group limit, then the overall one; a 429's ``retry_after``
waited out and the request retried) and shares a 429's pause with every worker.
While Redis does not answer it falls back to the per-process ``AIORateLimiter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import constants
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.core.shared.link import RedisDown, RedisLink
from bot.core.shared.reply_budget import Budget, RedisReplyBudget

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]


def group_of(chat_id: object) -> int | str | None:
    """The group or channel a request goes to (negative ids and ``@names``), as ``AIORateLimiter``; else None."""
    with contextlib.suppress(ValueError, TypeError):
        chat_id = int(chat_id)  # type: ignore[call-overload]
    if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str):
        return chat_id
    return None


class RedisRateLimiter(BaseRateLimiter[int]):
    """Telegram's per-bot limits counted in Redis across processes, with ``AIORateLimiter`` as fallback.

    Requests without a ``chat_id`` (``answerCallbackQuery``, ``setWebhook``) and paid broadcasts
    go through the per-process limiter as they would without Redis.
    """

    def __init__(
        self,
        link: RedisLink,
        *,
        overall_max_rate: float = constants.FloodLimit.MESSAGES_PER_SECOND,
        overall_time_period: float = 1,
        group_max_rate: float = constants.FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        group_time_period: float = 60,
        max_retries: int = 0,
    ) -> None:
        self.local = AIORateLimiter(
            overall_max_rate=overall_max_rate,
            overall_time_period=overall_time_period,
            group_max_rate=group_max_rate,
            group_time_period=group_time_period,
            max_retries=max_retries,
        )
        self.overall = Budget(overall_max_rate, overall_time_period) if overall_max_rate else None
        self.group = Budget(group_max_rate, group_time_period) if group_max_rate else None
        self.max_retries = max_retries
        self.budget = RedisReplyBudget(link)
        self._resume = asyncio.Event()  # cleared while this process waits out a 429
        self._resume.set()

    async def initialize(self) -> None:
        await self.local.initialize()

    async def shutdown(self) -> None:
        await self.local.shutdown()

    async def _wait_for(self, budget: Budget, *key: object) -> None:
        waiting = await self.budget.reserve(budget, *key)
        if waiting > 0:
            await asyncio.sleep(waiting)

    async def _pause(self, exc: RetryAfter) -> None:
        """Wait out a 429 here, and make every other worker wait too."""
        with warnings.catch_warnings():  # seconds in v22, a timedelta from v23 on: both are handled
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            retry_after = exc.retry_after
        seconds = (retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after) + 0.1
        logger.info("Telegram asks to wait %.1f s; all workers pause their replies", seconds)
        self._resume.clear()
        try:
            with contextlib.suppress(RedisDown):
                await self.budget.pause(seconds)
            await asyncio.sleep(seconds)
        finally:
            self._resume.set()

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Wait for a slot in the group's and the bot's budget, send; retry after a 429."""
        chat_id = data.get("chat_id")
        if chat_id is None or data.get("allow_paid_broadcast"):
            return await self.local.process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        max_retries = rate_limit_args or self.max_retries
        group = group_of(chat_id)
        for attempt in range(max_retries + 1):
            try:
                if group is not None and self.group is not None:
                    await self._wait_for(self.group, "group", group)
                if self.overall is not None:
                    await self._wait_for(self.overall)
            except RedisDown:
                return await self.local.process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            await self._resume.wait()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == max_retries:
                    logger.warning("Telegram's flood limit still hit after %d retries", max_retries)
                    raise
                await self._pause(exc)
        raise AssertionError("unreachable")  # the last attempt returns or raises
