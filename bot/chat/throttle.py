"""Per-user throttles: at most N requests in any window of S seconds.

The bot keeps two: one for questions (messages, /ask, "More passages") and one for inline
queries, which clients send as the user types, so they get a limit of their own.
``Throttle`` keeps the window in this process; ``RedisThrottle`` keeps it in Redis, so a user
whose requests reach several workers (on several hosts) gets N in all, not N per worker.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Callable

from bot.core.shared import RedisDown, RedisLink

# KEYS[1]: the user's window, a sorted set of question times (ms, Redis's clock, the same for every
# host). ARGV: the limit, the window in ms, a unique member. Returns 0 (counted) or the ms to wait.
_WINDOW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return window - (ms - tonumber(oldest[2]))
end
redis.call('ZADD', KEYS[1], ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class Throttle:
    """A sliding-window limit per key (a Telegram user id); used from the event loop only."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}

    def wait(self, key: int) -> int:
        """0 and count the request when ``key`` may go ahead; else the whole seconds to wait."""
        now = self._clock()
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= self.seconds:
            times.popleft()
        if len(times) >= self.limit:
            return max(1, math.ceil(self.seconds - (now - times[0])))
        times.append(now)
        if len(self._seen) > 10_000:
            self._forget(now)
        return 0

    async def check(self, key: int) -> int:
        """``wait`` as handlers await it (a window shared by hosts answers over the network)."""
        return self.wait(key)

    def _forget(self, now: float) -> None:
        """Drop users with no request inside the window, so memory stays bounded."""
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= self.seconds]:
            del self._seen[key]


class RedisThrottle(Throttle):
    """The same window kept in Redis, one sorted set per user that expires with the window.

    Fails open to this process's window while Redis does not answer: a user then gets N questions
    per worker instead of N in all, and nobody is refused because Redis is down.
    """

    def __init__(self, link: RedisLink, limit: int, seconds: float, name: str = "throttle") -> None:
        super().__init__(limit, seconds)
        self.link = link
        self.name = name  # the windows' key prefix: each throttle counts its own requests
        self._window = link.client.register_script(_WINDOW)

    async def check(self, key: int) -> int:
        window = [self.link.key(self.name, key)]
        try:
            waiting = int(
                await self.link.run(
                    lambda: self._window(keys=window, args=[self.limit, round(self.seconds * 1000), uuid.uuid4().hex])
                )
            )
        except RedisDown:
            return self.wait(key)
        return max(1, math.ceil(waiting / 1000)) if waiting > 0 else 0
