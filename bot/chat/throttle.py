"""Per-user question throttle: at most N questions in any window of S seconds."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


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

    def _forget(self, now: float) -> None:
        """Drop users with no request inside the window, so memory stays bounded."""
        for key in [k for k, t in self._seen.items() if not t or now - t[-1] >= self.seconds]:
            del self._seen[key]
