"""Running the webhook: uvicorn, bot start-up, ``setWebhook``, index refresh and a graceful stop.

Order of events: the web server binds first (so /healthz answers while the model loads and
/readyz says why it is not ready), then the bot starts (``post_init`` opens the engine), then
the webhook is registered, so Telegram only sends once updates can be handled. On SIGTERM or
SIGINT the server stops taking requests and finishes those in flight, the application
handles every update already queued, and the process exits 0. The webhook stays registered:
the other workers, or this one after a restart, keep receiving updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import uvicorn
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.chat.state import BotApplication
from bot.chat.telegram import ALLOWED_UPDATES
from bot.core.settings import Settings
from bot.core.shared.updates import FolderUpdateIds, RedisUpdateIds, UpdateIds
from bot.web.app import BODY_SECONDS, WebhookState, create_app, problems
from bot.web.connections import (
    HEAD_SECONDS,
    Pressure,
    connection_cap,
    guarded_protocol,
    quiet_accept_errors,
    raise_open_file_limit,
)

logger = logging.getLogger(__name__)

SET_WEBHOOK_ATTEMPTS = 5
# Inside INDEX_DIR, which every worker on one host shares: the update ids taken lately, unless
# REDIS_URL is set (see bot.core.shared.updates).
UPDATES_FOLDER = ".webhook-updates"
GRACEFUL_SECONDS = 30


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would re-raise the captured SIGTERM after a clean shutdown, ending the
        # process with -15 instead of 0; the caller handles signals instead.
        yield


def server_config(settings: Settings, app: Any, **overrides: Any) -> uvicorn.Config:
    """uvicorn settings: logging through ours, no lifespan, a bounded graceful shutdown."""
    options: dict[str, Any] = {
        "host": settings.webhook_listen,
        "port": settings.webhook_port,
        "lifespan": "off",
        "log_config": None,
        "server_header": False,
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def set_webhook(application: BotApplication, settings: Settings) -> None:
    """Register the webhook with its secret; retries on flood control and network errors."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    for attempt in range(1, SET_WEBHOOK_ATTEMPTS + 1):
        try:
            await application.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=list(ALLOWED_UPDATES),
            )
            logger.info("webhook registered (updates: %s)", ", ".join(ALLOWED_UPDATES))
            return
        except (BadRequest, Forbidden, InvalidToken):
            raise
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            error: Exception = exc
        except NetworkError as exc:
            wait = min(2.0**attempt, 30.0)
            error = exc
        if attempt == SET_WEBHOOK_ATTEMPTS:
            raise error
        logger.warning("setWebhook failed (%s); retrying in %.0fs", error, wait)
        await asyncio.sleep(wait)


async def refresh_index(application: BotApplication, seconds: float) -> None:
    """Check for an index another worker published, so an idle worker switches too."""
    while True:
        await asyncio.sleep(seconds)
        engine = application.bot_data.opened_engine
        if engine is None:
            continue
        try:
            await asyncio.to_thread(engine.refresh)
        except Exception:
            logger.exception("checking for a new index failed")


def updates_taken(application: BotApplication, settings: Settings) -> UpdateIds:
    """Where the update ids taken are kept: in Redis with REDIS_URL, else in the folder in INDEX_DIR."""
    redis = application.bot_data.redis
    if redis is not None:
        return RedisUpdateIds(redis)
    folder = FolderUpdateIds(settings.index_dir / UPDATES_FOLDER)
    folder.prune()
    return folder


async def _serve_http(server: uvicorn.Server) -> int:
    try:
        await server.serve()
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        return int(exc.code or 1)
    return 0


async def _start_bot(application: BotApplication, settings: Settings, started: list[str]) -> None:
    await application.initialize()
    started.append("initialized")
    if application.post_init:
        await application.post_init(application)
    await application.start()
    started.append("running")
    await set_webhook(application, settings)


async def _stop_bot(application: BotApplication, started: list[str]) -> None:
    if "running" in started and application.running:
        await application.stop()  # handles every update already on the queue first
        if application.post_stop:
            await application.post_stop(application)
    if "initialized" in started:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


async def serve(
    settings: Settings,
    application: BotApplication,
    stop: asyncio.Event,
    *,
    body_seconds: float | None = None,
    head_seconds: float = HEAD_SECONDS,
    **uvicorn_options: Any,
) -> int:
    """Serve the webhook until ``stop`` is set; 0 after a clean stop, 1 when start-up failed."""
    loop = asyncio.get_running_loop()
    previous_handler = loop.get_exception_handler()
    pressure = Pressure()
    quiet_accept_errors(loop, pressure)
    try:
        return await _serve(settings, application, stop, body_seconds, head_seconds, pressure, uvicorn_options)
    finally:
        loop.set_exception_handler(previous_handler)


async def _serve(
    settings: Settings,
    application: BotApplication,
    stop: asyncio.Event,
    body_seconds: float | None,
    head_seconds: float,
    pressure: Pressure,
    uvicorn_options: dict[str, Any],
) -> int:
    seen = updates_taken(application, settings)
    app = create_app(
        settings, application, body_seconds=BODY_SECONDS if body_seconds is None else body_seconds, seen=seen
    )
    state: WebhookState = app.state.webhook
    cap = connection_cap(settings.webhook_max_connections)
    protocol = guarded_protocol(head_seconds, cap, pressure)
    server = _Server(server_config(settings, app, http=protocol, **uvicorn_options))
    http = asyncio.create_task(_serve_http(server), name="webhook-http")
    while not server.started and not http.done():
        await asyncio.sleep(0.05)
    if http.done():
        logger.error("the web server could not start on %s:%s", settings.webhook_listen, settings.webhook_port)
        return 1
    logger.info(
        "listening on %s:%s, webhook path %s, at most %d connections",
        settings.webhook_listen,
        settings.webhook_port,
        settings.webhook_path,
        cap,
    )

    started: list[str] = []
    status = 0
    startup = asyncio.create_task(_start_bot(application, settings, started), name="bot-startup")
    stopping = asyncio.create_task(stop.wait())
    refresher: asyncio.Task[None] | None = None
    try:
        await asyncio.wait({startup, stopping, http}, return_when=asyncio.FIRST_COMPLETED)
        if startup.done() and isinstance(startup.exception(), InvalidToken):
            logger.error("the bot could not start: Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
            status = 1
        elif (  # unreachable or timed out: one line, the traceback tells nothing more
            startup.done()
            and isinstance(startup.exception(), NetworkError)
            and not isinstance(startup.exception(), BadRequest)
        ):
            where = settings.telegram_api_base_url
            logger.error("the bot could not start: cannot reach the Bot API at %s: %s", where, startup.exception())
            status = 1
        elif startup.done() and startup.exception() is not None:
            logger.error("the bot could not start: %s", startup.exception(), exc_info=startup.exception())
            status = 1
        elif startup.done():
            logger.info("ready")
            refresher = asyncio.create_task(refresh_index(application, settings.index_refresh_seconds))
            await asyncio.wait({stopping, http}, return_when=asyncio.FIRST_COMPLETED)
        else:
            startup.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await startup
    finally:
        logger.info("stopping: no new requests, finishing the updates in flight")
        state.draining = True
        server.should_exit = True
        http_status = await http
        stopping.cancel()
        if refresher is not None:
            refresher.cancel()
        await _stop_bot(application, started)
        logger.info("stopped")
    return status or http_status


def run(settings: Settings) -> int:
    """Build the bot, serve its webhook until SIGTERM/SIGINT, and return the exit status."""
    found = problems(settings)
    for problem in found:
        logger.error("%s", problem)
    if found:
        return 2
    from bot.chat.telegram import build_application

    application = build_application(settings, polling=False)
    raise_open_file_limit()

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve(settings, application, stop)

    return asyncio.run(main())
