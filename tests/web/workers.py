"""Worker processes for tests: ``python -m bot serve`` as production runs it, on loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.botapi import BotApiStub
from tests.support.processes import Child, Env, serve_bot

Worker = Child

# What every worker is given: an admin, a throttle out of reach of a test's load, a quick index refresh.
SETTINGS = {"ADMIN_USER_IDS": "42", "THROTTLE_QUESTIONS": "1000", "INDEX_REFRESH_SECONDS": "1", "LOG_LEVEL": "INFO"}


def start_worker(
    name: str,
    api: BotApiStub,
    corpus: Path,
    index: Path,
    folder: Path,
    preexec: Callable[[], None] | None = None,
    env: Env | None = None,
) -> Worker:
    """Start a worker serving the webhook with the stub as its Bot API (not waiting for it), with
    ``env`` over ``SETTINGS``; ``preexec`` runs in the child before it starts (to lower a limit, say)."""
    settings = {**SETTINGS, **(env or {})}
    return serve_bot(api, folder, corpus=corpus, index=index, env=settings, name=name, preexec=preexec)


async def post_all(
    port: int, path: str, bodies: list[bytes], headers: dict[str, str], connections: int = 100
) -> list[tuple[int, float, float]]:
    """POST ``bodies`` over ``connections`` keep-alive connections, as Telegram does (one request at a
    time per connection); for each body its status and the monotonic times it was sent and answered.

    A few lines of HTTP/1.1 instead of a full client, so the load generator costs little CPU
    next to the server it measures.
    """
    results: list[tuple[int, float, float]] = [(0, 0.0, 0.0)] * len(bodies)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(len(bodies)):
        queue.put_nowait(n)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                n = queue.get_nowait()
                body = bodies[n]
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Length: {len(body)}\r\n\r\n"
                )
                sent = time.monotonic()
                writer.write(head.encode() + body)
                await writer.drain()
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                results[n] = (int(status_line.split()[1]), sent, time.monotonic())
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(connections, len(bodies)))))
    return results
