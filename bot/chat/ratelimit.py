"""The bot's reply budget shared by every worker through Redis.

Telegram limits a bot, not a process, to about 30 messages a second (20 a minute in one group).
python-telegram-bot's ``AIORateLimiter`` counts in one process, so N workers could send N times
too much; ``SharedRateLimiter`` counts the same budget in Redis (a GCRA slot per message, on
Redis's clock), keeps ``AIORateLimiter``'s structure (group limit, then the overall one; a 429's
``retry_after`` waited out and the request retried) and shares a 429's pause with every worker.
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

from bot.core.shared import RedisDown, RedisLink

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]

# KEYS[1]: a budget's theoretical arrival time (GCRA, microseconds on Redis's clock); KEYS[2]: the
# pause after a 429, whose time to live delays every slot. ARGV[1]: the interval between messages,
# ARGV[2]: how far ahead a message may go (the burst), both in microseconds. Reserves the next
# slot and returns the microseconds to wait for it.
_RESERVE = """
local now = redis.call('TIME')
local us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local start = us
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then start = us + pause * 1000 end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < start then tat = start end
local send = tat - tonumber(ARGV[2])
if send < start then send = start end
tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - us) / 1000) + 1000)
return send - us
"""


class Budget:
    """``rate`` messages per ``period`` seconds, in bursts of up to ``rate`` (as ``aiolimiter``)."""

    def __init__(self, rate: float, period: float) -> None:
        self.interval_us = round(period / rate * 1_000_000)
        self.burst_us = round((rate - 1) * period / rate * 1_000_000)


def group_of(chat_id: object) -> int | str | None:
    """The group or channel a request goes to (negative ids and ``@names``), as ``AIORateLimiter``; else None."""
    with contextlib.suppress(ValueError, TypeError):
        chat_id = int(chat_id)  # type: ignore[call-overload]
    if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str):
        return chat_id
    return None


class SharedRateLimiter(BaseRateLimiter[int]):
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
        self.link = link
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
        self._reserve = link.client.register_script(_RESERVE)
        self._resume = asyncio.Event()  # cleared while this process waits out a 429
        self._resume.set()

    async def initialize(self) -> None:
        await self.local.initialize()

    async def shutdown(self) -> None:
        await self.local.shutdown()

    async def _wait_for(self, budget: Budget, *key: object) -> None:
        keys = [self.link.key("replies", *key), self.link.key("replies", "pause")]
        waiting = int(await self.link.run(lambda: self._reserve(keys=keys, args=[budget.interval_us, budget.burst_us])))
        if waiting > 0:
            await asyncio.sleep(waiting / 1_000_000)

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
                pause = self.link.key("replies", "pause")
                await self.link.run(lambda: self.link.client.set(pause, 1, px=round(seconds * 1000)))
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
