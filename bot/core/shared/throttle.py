"""Per-reader throttles by cost: at most N units in any window of S seconds.

A unit is what a short question costs: one reply, one short encode. Longer questions cost one unit
per ``question_chars`` characters begun (``bot.chat.fairness.question_cost``), so a reader pasting
the longest questions gets as much of the engine as one asking short ones, not thirty times more;
commands, buttons and other messages that get a reply cost one unit (``bot.chat.fairness``). The bot keeps
three such throttles: one for everything a reader sends in chats, one for inline queries, which
clients send as the user types, and one for 👍/👎 presses.

``Throttle`` keeps the window in this process; ``RedisThrottle`` keeps it in Redis, so a reader
whose updates reach several workers (on several hosts) gets N in all, not N per worker.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Callable

from bot.core.shared.link import RedisDown, RedisLink

# KEYS[1]: the reader's window, a sorted set of "<cost>:<unique>" members scored by their time (ms,
# Redis's clock, the same for every host). ARGV: the limit, the window in ms, a unique member, the
# cost. Returns 0 (counted) or the ms until enough of the window has left it to make room.
# A member without a cost (written before costs existed) counts one unit.
_WINDOW = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do
  used = used + tonumber(string.match(entries[i], '^(%d+):') or '1')
end
if used + cost > limit then
  local excess = used + cost - limit
  for i = 1, #entries, 2 do
    excess = excess - tonumber(string.match(entries[i], '^(%d+):') or '1')
    if excess <= 0 then return window - (ms - tonumber(entries[i + 1])) end
  end
  return window
end
redis.call('ZADD', KEYS[1], ms, ARGV[4] .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class Throttle:
    """A sliding window of costs per key (a Telegram user id); used from the event loop only."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._seen: dict[int, deque[tuple[float, int]]] = {}
        self._told: dict[int, float] = {}  # when each waiting reader was last told to wait

    def wait(self, key: int, cost: int = 1) -> int:
        """0 and count ``cost`` units when ``key`` may go ahead; else the whole seconds to wait.

        A cost above the limit counts as the limit: it waits for an empty window, never forever.
        """
        now = self._clock()
        cost = min(cost, self.limit)
        times = self._seen.setdefault(key, deque())
        while times and now - times[0][0] >= self.seconds:
            times.popleft()
        excess = sum(units for _, units in times) + cost - self.limit
        if excess > 0:
            for at, units in times:
                excess -= units
                if excess <= 0:
                    return max(1, math.ceil(self.seconds - (now - at)))
        times.append((now, cost))
        if len(self._seen) > 10_000:
            self._forget(now)
        return 0

    async def check(self, key: int, cost: int = 1) -> int:
        """``wait`` as handlers await it (a window shared by hosts answers over the network)."""
        return self.wait(key, cost) if cost > 0 else 0

    async def tell(self, key: int, wait: int) -> bool:
        """Whether to tell ``key`` about a wait of ``wait`` seconds now: once until that wait is over,
        so a reader flooding past the limit gets one reply, not one per message."""
        return self._tell_here(key, wait)

    def _tell_here(self, key: int, wait: int) -> bool:
        now = self._clock()
        if self._told.get(key, -math.inf) > now:
            return False
        self._told[key] = now + wait
        if len(self._told) > 10_000:
            self._told = {k: until for k, until in self._told.items() if until > now}
        return True

    def _forget(self, now: float) -> None:
        """Drop users with no request inside the window, so memory stays bounded."""
        for key in [k for k, t in self._seen.items() if not t or now - t[-1][0] >= self.seconds]:
            del self._seen[key]


class RedisThrottle(Throttle):
    """The same window kept in Redis, one sorted set per user that expires with the window.

    Fails open to this process's window while Redis does not answer: a user then gets N units
    per worker instead of N in all, and nobody is refused because Redis is down.
    """

    def __init__(self, link: RedisLink, limit: int, seconds: float, name: str = "throttle") -> None:
        super().__init__(limit, seconds)
        self.link = link
        self.name = name  # the windows' key prefix: each throttle counts its own requests
        self._window = link.client.register_script(_WINDOW)

    async def check(self, key: int, cost: int = 1) -> int:
        if cost <= 0:
            return 0
        cost = min(cost, self.limit)
        window = [self.link.key(self.name, key)]
        args: list[int | str] = [self.limit, round(self.seconds * 1000), uuid.uuid4().hex, cost]
        try:
            waiting = int(await self.link.run(lambda: self._window(keys=window, args=args)))
        except RedisDown:
            return self.wait(key, cost)
        return max(1, math.ceil(waiting / 1000)) if waiting > 0 else 0

    async def tell(self, key: int, wait: int) -> bool:
        told = self.link.key(f"{self.name}-told", key)
        try:  # the first worker to set it tells; the others keep quiet until it expires
            return bool(await self.link.run(lambda: self.link.client.set(told, 1, nx=True, ex=max(1, wait))))
        except RedisDown:
            return self._tell_here(key, wait)
