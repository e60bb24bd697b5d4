"""Worker processes for tests: ``python -m bot serve`` as production runs it, on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.botapi import TOKEN, BotApiStub
from bench.processes import free_port
from tests.web.conftest import SECRET, WEBHOOK_PATH

# Settings a developer's environment could hold; the workers get only what the test gives them.
_PREFIXES = ("TELEGRAM_", "WEBHOOK_", "CORPUS_", "INDEX_", "ADMIN_", "THROTTLE_", "EMBEDDING_", "LOG_LEVEL")


@dataclass
class Worker:
    """One ``python -m bot serve`` process and where it listens."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit status (killed after ``timeout`` seconds)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"{self.name} did not stop within {timeout}s:\n{self.output()[-3000:]}") from None


def start_worker(
    name: str,
    api: BotApiStub,
    corpus: Path,
    index: Path,
    folder: Path,
    preexec: Callable[[], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> Worker:
    """Start a worker serving the webhook with the stub as its Bot API (not waiting for it), with
    ``env`` over its settings; ``preexec`` runs in the child before it starts (to lower a limit, say)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
    environment.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        TELEGRAM_API_FILE_URL=api.file_url,
        WEBHOOK_URL=f"https://bot.example.test{WEBHOOK_PATH}",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        CORPUS_DIR=str(corpus),
        INDEX_DIR=str(index),
        ADMIN_USER_IDS="42",
        THROTTLE_QUESTIONS="1000",
        INDEX_REFRESH_SECONDS="1",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    environment.update(env or {})
    log = folder / f"{name}.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=folder,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec,
        )
    return Worker(name, port, process, log)


def wait_ready(worker: Worker, timeout: float = 120) -> None:
    """Poll /readyz until 200; AssertionError with the worker's log when it dies or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise AssertionError(f"{worker.name} exited with {worker.process.returncode}:\n{worker.output()[-3000:]}")
        try:
            if httpx.get(f"{worker.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{worker.name} not ready within {timeout}s:\n{worker.output()[-3000:]}")


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
