"""Connection limits of the webhook server: idle clients cut off, a cap below the open-file limit.

uvicorn keeps a connection that never sends a byte open for ever. Enough of them use up the
process's file descriptors; then /healthz and every update fail, and asyncio logs "out of
system resource" with a traceback for each refused accept. So the server here:

- closes a connection whose request head has not arrived ``head_seconds`` after it opened (or
  after its last response);
- holds at most ``max_connections`` at once, below the open-file limit: past it, the connection
  that has waited longest for its head is dropped (the newest, when all are busy), so clients
  that do send, such as Telegram and health checks, still get through;
- logs such pressure, and refused accepts, once a minute at most, without a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger(__name__)

HEAD_SECONDS = 5.0  # Telegram sends its request at once
RESERVED_FILES = 64  # descriptors left for the index, the Bot API connections and the logs
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard one where allowed; the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError) as exc:
            logger.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
    return soft


def connection_cap(configured: int) -> int:
    """``configured``, lowered to leave room under the process's open-file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, max(soft // 2, soft - RESERVED_FILES)))


class Pressure:
    """Logs each kind of overload at most once per ``every`` seconds, with how often it happened."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def report(self, kind: str, message: str) -> None:
        self._count[kind] = self._count.get(kind, 0) + 1
        now = time.monotonic()
        if now - self._last.get(kind, -self.every) >= self.every:
            logger.warning("%s (%d times since the last report)", message, self._count[kind])
            self._last[kind] = now
            self._count[kind] = 0


def guarded_protocol(head_seconds: float, max_connections: int, pressure: Pressure) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the head deadline and the connection cap above."""

    class GuardedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _waiting_since = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()
            if len(self.connections) > max_connections:
                waiting = [c for c in self.connections if isinstance(c, GuardedH11Protocol) and c._head_timer]
                victim = min(waiting, key=lambda c: c._waiting_since, default=self)
                victim.transport.abort()
                pressure.report("connections", f"over {max_connections} connections: closing the longest idle")

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the head is complete; the body has its own deadline (bot.web.app)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._waiting_since = self.loop.time()
            self._head_timer = self.loop.call_later(head_seconds, self._head_timeout)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timeout(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, pressure: Pressure) -> None:
    """Report accepts refused for lack of descriptors through ``pressure``, not as a traceback each.

    asyncio retries the accept by itself a second later; anything else goes to the previous handler.
    """
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        accepting = "accept" in str(context.get("message", ""))
        if accepting and isinstance(exc, OSError) and exc.errno in _OUT_OF_RESOURCES:
            pressure.report("accept", f"cannot accept connections: {exc.strerror}; retrying")
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
