"""The bot's reply budget kept in Redis, so that every worker of the bot counts the same one.

Telegram limits a bot, not a process, to about 30 messages a second (20 a minute in one group).
``RedisReplyBudget`` reserves a slot per message (GCRA, on Redis's clock) in a budget every
worker shares, and keeps the pause after a 429 that every worker waits out. Its caller, the
rate limiter in ``bot.chat.ratelimit``, falls back to python-telegram-bot's per-process
``AIORateLimiter`` while Redis does not answer (``RedisDown``).
"""

from __future__ import annotations

from bot.core.shared.link import RedisLink

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


class RedisReplyBudget:
    """Reply slots in Redis (``article-bot:<bot id>:replies:...``) and the pause after a 429.

    Both raise ``RedisDown`` when Redis is not to be tried now or fails (see ``RedisLink.run``).
    """

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._reserve = link.client.register_script(_RESERVE)

    async def reserve(self, budget: Budget, *key: object) -> float:
        """Reserve the next slot of the budget ``key`` names (none: the bot's own); the seconds to wait for it."""
        keys = [self.link.key("replies", *key), self.link.key("replies", "pause")]
        waiting = int(await self.link.run(lambda: self._reserve(keys=keys, args=[budget.interval_us, budget.burst_us])))
        return max(waiting, 0) / 1_000_000

    async def pause(self, seconds: float) -> None:
        """Make every worker's next slots wait ``seconds`` from now."""
        pause = self.link.key("replies", "pause")
        await self.link.run(lambda: self.link.client.set(pause, 1, px=round(seconds * 1000)))
