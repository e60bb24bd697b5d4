"""The bot end to end: an update in, ``sendMessage`` out, through the real webhook server.

``python -m bot serve`` runs as a webhook server (a separate process, as in production)
against ``tests.support.botapi.BotApiStub``, a Bot API stand-in on loopback in this process.
Updates are POSTed to the webhook with the secret header; the time to an answer is from just
before the POST to the moment the stub receives the ``sendMessage`` for that chat.

Bot latency: one sender, one update at a time. Baselines in the same run: a GET /healthz
round trip (the HTTP floor) and the engine's own answer time. Throughput: 1, 8 and 64
senders, each sending its next update as soon as its last one is answered; every update
comes from a new user, as many users would (one user is limited to a few questions in ten
seconds by the bot's throttle). python-telegram-bot's ``AIORateLimiter`` holds the bot to
Telegram's limit of about 30 messages a second, so that is the ceiling here too.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Row, Section, ms, questions
from bench.processes import ask
from tests.support.paths import article_corpus
from tests.support.processes import SECRET, WEBHOOK_PATH, serve_bot

LATENCY_UPDATES = 100
LATENCY_SPACING = 0.05  # seconds between updates when measuring latency: 20 a second
THROUGHPUT = {1: 90, 8: 240, 64: 480}
BURST = 40  # senders → updates answered in the measurement
QUICK_THROUGHPUT = {1: 5, 8: 16}


class Replies:
    """Futures resolved when the stub sees a ``sendMessage`` to their chat."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.seen = 0
        self.waiting: dict[int, asyncio.Future[float]] = {}

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future

    async def watch(self) -> None:
        while True:
            calls = self.api.calls[self.seen :]
            self.seen += len(calls)
            for call in calls:
                if call.method == "sendMessage":
                    future = self.waiting.pop(int(call.params.get("chat_id", 0)), None)
                    if future is not None and not future.done():
                        future.set_result(call.at)
            await asyncio.sleep(0.001)


def _update(update_id: int, user: int, text: str) -> dict[str, Any]:
    person = {"id": user, "is_bot": False, "first_name": "Bench", "language_code": "nl"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": user, "type": "private", "first_name": "Bench"},
            "from": person,
        },
    }


async def _measure(api: Any, url: str, health: str, quick: bool) -> dict[str, Any]:
    import httpx

    replies = Replies(api)
    watcher = asyncio.create_task(replies.watch())
    ids = itertools.count(1)
    users = itertools.count(10_000_001)
    asked = itertools.cycle(questions())
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one() -> float:
            user = next(users)
            answered = replies.expect(user)
            sent = time.monotonic()
            response = await client.post(url, json=_update(next(ids), user, next(asked)), headers=headers)
            response.raise_for_status()
            return await asyncio.wait_for(answered, 30) - sent

        for _ in range(5):  # warm-up: connections, first-call allocations
            await one()
        await asyncio.sleep(1.5)  # let the rate limiter's bucket refill after the warm-up
        latency, floor = [], []
        for _ in range(10 if quick else LATENCY_UPDATES):
            began = time.monotonic()
            (await client.get(health)).raise_for_status()
            floor.append(time.monotonic() - began)
            latency.append(await one())
            # Below the rate limiter's 30 replies a second, so this is the bot's own latency.
            await asyncio.sleep(max(0.0, LATENCY_SPACING - (time.monotonic() - began)))
        await asyncio.sleep(1.5)

        throughput = []
        for senders, total in (QUICK_THROUGHPUT if quick else THROUGHPUT).items():
            # Unmeasured first: python-telegram-bot's rate limiter lets a burst of 30 replies
            # through at once; what is measured is the steady state after it.
            warm: list[float] = []
            budget = [0 if quick else BURST]

            async def drain(budget: list[int] = budget, warm: list[float] = warm) -> None:
                while budget[0] > 0:
                    budget[0] -= 1
                    warm.append(await one())

            await asyncio.gather(*(drain() for _ in range(senders)))
            budget = [total]
            times: list[float] = []

            async def sender(budget: list[int] = budget, times: list[float] = times) -> None:
                while budget[0] > 0:
                    budget[0] -= 1
                    times.append(await one())

            began = time.monotonic()
            await asyncio.gather(*(sender() for _ in range(senders)))
            elapsed = time.monotonic() - began
            p50, p99 = ms(times)
            throughput.append(
                {
                    "senders": senders,
                    "updates": len(times),
                    "seconds": elapsed,
                    "updates_per_s": len(times) / elapsed,
                    "p50_ms": p50,
                    "p99_ms": p99,
                }
            )
    watcher.cancel()
    return {"latency": latency, "floor": floor, "throughput": throughput}


def run(*, quick: bool = False) -> Section:
    from tests.support.botapi import BotApiStub

    section = Section("bot")
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp, BotApiStub() as api:
        index, corpus = Path(tmp) / "index", article_corpus(Path(tmp))
        ask(index, corpus)  # builds the index
        with serve_bot(api, Path(tmp), corpus=corpus, index=index, env={"LOG_LEVEL": "WARNING"}) as server:
            server.wait_ready()
            result = asyncio.run(_measure(api, server.url + WEBHOOK_PATH, f"{server.url}/healthz", quick))
    p50, p99 = ms(result["latency"])
    floor50, floor99 = ms(result["floor"])
    section.rows += [
        Row(
            "Bot",
            "update in → sendMessage out (1 sender)",
            "ms",
            p50,
            p99,
            "GET /healthz round trip",
            floor50,
            samples=len(result["latency"]),
            note="webhook server process + stub Bot API on loopback",
        ),
        Row("Bot", "baseline: GET /healthz round trip", "ms", floor50, floor99, samples=len(result["floor"])),
    ]
    for point in result["throughput"]:
        section.rows.append(
            Row(
                "Webhook throughput",
                f"{point['senders']} concurrent senders",
                "updates/s",
                point["updates_per_s"],
                None,
                "",
                None,
                samples=point["updates"],
                note=f"answer latency p50 {point['p50_ms']:.0f} ms, p99 {point['p99_ms']:.0f} ms; "
                "AIORateLimiter caps replies at Telegram's ~30/s",
            )
        )
    section.series = {"latency_ms": [t * 1e3 for t in result["latency"]], "throughput": result["throughput"]}
    return section
