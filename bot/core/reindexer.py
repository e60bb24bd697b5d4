"""Index rebuilds in the background: one at a time, in a worker thread, reported when done.

A rebuild gives up, publishing nothing, as soon as its ``cancelled`` check turns true: a bot
that is stopping does not wait minutes for a rebuild (systemd would kill it first), and the old
index keeps serving the other workers and the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.core import metrics
from index import BuildReport, Engine, EngineError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """A rebuild that did not happen; ``reason`` is safe to show an admin."""

    reason: str


# What a rebuild ends with: the engine's report of the new index, or why there is none.
RebuildResult = BuildReport | Failure
Done = Callable[[RebuildResult], Awaitable[object]]


class Reindexer:
    """Runs at most one rebuild at a time in a worker thread; questions keep using the old index."""

    def __init__(self) -> None:
        self.task: asyncio.Task[RebuildResult] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(
        self,
        engine: Engine,
        done: Done,
        spawn: Callable[[Coroutine[Any, Any, RebuildResult]], asyncio.Task[RebuildResult]] = asyncio.ensure_future,
        cancelled: Callable[[], bool] | None = None,
    ) -> bool:
        """Start a rebuild that reports to ``done`` and stops early once ``cancelled()`` is true;
        False (nothing started) when one is running."""
        if self.running or engine.reindexing:
            return False
        self.task = spawn(self._run(engine, done, cancelled))
        return True

    async def _run(self, engine: Engine, done: Done, cancelled: Callable[[], bool] | None) -> RebuildResult:
        result: RebuildResult
        try:
            result = await asyncio.to_thread(engine.reindex, cancelled=cancelled)
            metrics.REINDEXES.labels("ok").inc()
        except EngineError as exc:  # the engine's own errors say what went wrong in one line: no traceback
            result = Failure(str(exc))
            metrics.REINDEXES.labels("failed").inc()
            logger.warning("rebuild failed: %s", exc)
        except Exception as exc:
            result = Failure(type(exc).__name__)
            metrics.REINDEXES.labels("failed").inc()
            logger.exception("rebuild failed")
        try:
            await done(result)
        except Exception:
            logger.exception("could not report the rebuild")
        return result
