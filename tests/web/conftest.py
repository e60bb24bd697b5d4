"""Fixtures for the webhook server: a Bot API stub, the bot, and the server running in the test loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from telegram.ext import Application

from bot.chat.telegram import build_application
from bot.core.settings import Settings
from bot.web.connections import HEAD_SECONDS
from bot.web.server import serve
from index import Engine
from tests.support.botapi import TOKEN, BotApiStub
from tests.support.ports import free_port
from tests.support.processes import SECRET, WEBHOOK_PATH, answers, until


def web_settings(api: BotApiStub, **overrides: Any) -> Settings:
    """Settings for a webhook on a free loopback port, talking to ``api``."""
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": api.base_url,
        "telegram_api_file_url": api.file_url,
        "webhook_url": f"https://bot.example.test{WEBHOOK_PATH}",
        "webhook_secret": SECRET,
        "webhook_listen": "127.0.0.1",
        "webhook_port": free_port(),
        "admin_user_ids": "42",
        "throttle_questions": 1000,
        "index_refresh_seconds": 0.5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def make_application(settings: Settings, engine: Engine) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot as production builds it for a webhook, with ``engine`` already open."""
    return build_application(settings, engine=engine, polling=False)


@dataclass
class RunningServer:
    """A webhook server serving in the test's event loop, and a client for it."""

    settings: Settings
    api: BotApiStub
    application: Application[Any, Any, Any, Any, Any, Any]
    stop: asyncio.Event
    task: asyncio.Task[int]
    client: httpx.AsyncClient

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.webhook_port}"

    async def post_update(self, update: dict[str, Any] | bytes, *, secret: str | None = SECRET) -> httpx.Response:
        """POST ``update`` (JSON, or raw bytes) to the webhook path as Telegram would."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        if isinstance(update, bytes):
            headers["Content-Type"] = "application/json"
            return await self.client.post(WEBHOOK_PATH, content=update, headers=headers)
        return await self.client.post(WEBHOOK_PATH, json=update, headers=headers)

    async def until_ready(self, timeout: float = 60.0) -> None:
        """Return once /readyz answers 200 (polled from a thread while the server serves in this loop)."""

        def stopped() -> str | None:
            return f"stopped during start-up with status {self.task.result()}" if self.task.done() else None

        check = partial(answers, f"{self.url}/readyz")
        await asyncio.to_thread(until, check, gone=stopped, what=f"the server on {self.url}", timeout=timeout)

    async def shutdown(self) -> int:
        """Stop the server the way SIGTERM does; its exit status."""
        self.stop.set()
        status = await asyncio.wait_for(self.task, timeout=60)
        await self.client.aclose()
        return status


@pytest.fixture
def botapi() -> Iterator[BotApiStub]:
    """A fresh Bot API stub on loopback."""
    with BotApiStub() as api:
        yield api


StartServer = Callable[..., Awaitable[RunningServer]]


@pytest.fixture
async def start_server(botapi: BotApiStub, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StartServer]:
    """Start webhook servers (stopped at the end of the test): ``await start_server(engine, **settings)``."""
    running: list[RunningServer] = []

    async def start(
        engine: Engine,
        *,
        application: Application[Any, Any, Any, Any, Any, Any] | None = None,
        body_seconds: float | None = None,
        head_seconds: float = HEAD_SECONDS,
        wait: bool = True,
        **overrides: Any,
    ) -> RunningServer:
        # A folder of its own: the update ids this server has taken (tests reuse ids across servers).
        overrides.setdefault("index_dir", tmp_path_factory.mktemp("webhook-index"))
        settings = web_settings(botapi, **overrides)
        application = application or make_application(settings, engine)
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(settings, application, stop, body_seconds=body_seconds, head_seconds=head_seconds, access_log=False)
        )
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.webhook_port}", timeout=30)
        server = RunningServer(settings, botapi, application, stop, task, client)
        running.append(server)
        if wait:
            await server.until_ready()
        return server

    yield start
    for server in running:
        if not server.task.done():
            await server.shutdown()
