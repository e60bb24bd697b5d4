"""The webhook web app: Telegram's POSTs checked and queued, plus health, readiness and metrics.

Each update is checked (secret token, size, JSON, ``Update`` shape, not seen before), put on
the application's update queue and answered with 200 at once; the bot handles it in the
background, so a slow answer never makes Telegram time out and redeliver. Running the app
(uvicorn, start-up, SIGTERM) lives in ``bot.web.server``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.chat.state import BotApplication
from bot.core.metrics import UPDATES
from bot.core.settings import Settings
from bot.core.shared.updates import UpdateIds
from bot.web.shapes import shape_problem

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATHS = ("/healthz", "/readyz", "/metrics")
# How long a client may take to send its body; Telegram sends it at once, a stalled client is cut off.
BODY_SECONDS = 10.0


class Rejected(Exception):
    """A webhook request turned away: its HTTP status, a short reason and its metrics label."""

    def __init__(self, status: HTTPStatus, reason: str, result: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.result = result


@dataclass
class WebhookState:
    """What the routes need, kept on ``app.state.webhook``."""

    application: BotApplication
    secret: bytes
    max_body_bytes: int
    body_seconds: float = BODY_SECONDS
    seen: UpdateIds = field(default_factory=UpdateIds)
    draining: bool = False

    def not_ready(self) -> list[str]:
        """Why the bot cannot answer yet (empty when it can)."""
        reasons = []
        if self.draining:
            reasons.append("shutting down")
        if not self.application.running:
            reasons.append("bot not running")
        engine = self.application.bot_data.opened_engine
        if engine is None or not engine.ready:
            reasons.append("index not loaded")
        return reasons


def _state(request: Request) -> WebhookState:
    state: WebhookState = request.app.state.webhook
    return state


def check_secret(request: Request, secret: bytes) -> None:
    """Raise Rejected(403) unless the secret token header matches, compared in constant time."""
    given = request.headers.get(SECRET_HEADER)
    # Starlette decodes headers as latin-1, so this gives back the bytes that were sent.
    if given is None or not hmac.compare_digest(given.encode("latin-1"), secret):
        raise Rejected(HTTPStatus.FORBIDDEN, "wrong or missing secret token", "forbidden")


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The request body, at most ``limit`` bytes, received within ``seconds``; Rejected otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Rejected(HTTPStatus.BAD_REQUEST, "malformed Content-Length", "invalid")
        if int(declared) > limit:
            raise Rejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {limit} bytes", "too_large")
    body = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise Rejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body larger than {limit} bytes", "too_large")
    except TimeoutError:
        raise Rejected(HTTPStatus.REQUEST_TIMEOUT, f"body not received within {seconds:g}s", "invalid") from None
    except ClientDisconnect:
        raise Rejected(HTTPStatus.BAD_REQUEST, "client disconnected before sending the whole body", "invalid") from None
    return bytes(body)


def parse_update(body: bytes, application: BotApplication) -> Update:
    """The ``Update`` in ``body``; Rejected(400) when it is not JSON or not an update."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise Rejected(HTTPStatus.BAD_REQUEST, "body is not JSON", "invalid") from None
    if not isinstance(data, dict):
        raise Rejected(HTTPStatus.BAD_REQUEST, "not a Telegram Update: expected a JSON object", "invalid")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise Rejected(HTTPStatus.BAD_REQUEST, "not a Telegram Update: no integer update_id", "invalid")
    problem = shape_problem(data)
    if problem:
        raise Rejected(HTTPStatus.BAD_REQUEST, f"not a Telegram Update: {problem}", "invalid")
    try:
        update = Update.de_json(data, application.bot)
    except Exception as exc:  # de_json raises whatever a malformed field happens to cause
        raise Rejected(HTTPStatus.BAD_REQUEST, f"not a Telegram Update: {type(exc).__name__}", "invalid") from None
    return update


async def webhook(request: Request) -> Response:
    """Check one Telegram POST, queue its update once, answer at once."""
    state = _state(request)
    try:
        check_secret(request, state.secret)
        if not state.application.running:
            # Telegram retries later (or another worker takes it); nothing is lost.
            raise Rejected(HTTPStatus.SERVICE_UNAVAILABLE, "bot not running", "unavailable")
        body = await read_body(request, state.max_body_bytes, state.body_seconds)
        update = parse_update(body, state.application)
    except Rejected as exc:
        UPDATES.labels(result=exc.result).inc()
        logger.warning("webhook request rejected with %d: %s", exc.status, exc.reason)
        return PlainTextResponse(exc.reason + "\n", status_code=exc.status)
    if not await state.seen.take(update.update_id):
        UPDATES.labels(result="duplicate").inc()
        logger.info("update %d delivered again; already taken", update.update_id)
        return PlainTextResponse("duplicate\n")
    await state.application.update_queue.put(update)
    UPDATES.labels(result="accepted").inc()
    return PlainTextResponse("ok\n")


async def healthz(request: Request) -> Response:
    """Liveness: the process serves HTTP."""
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    """Readiness: the bot runs and an index is loaded; 503 with the reasons otherwise."""
    state = _state(request)
    reasons = state.not_ready()
    engine = state.application.bot_data.opened_engine
    body: dict[str, Any] = {"ready": not reasons}
    if reasons:
        body["reasons"] = reasons
    if engine is not None and engine.ready:
        body["index"] = engine.index.version
    return JSONResponse(body, status_code=HTTPStatus.SERVICE_UNAVAILABLE if reasons else HTTPStatus.OK)


async def metrics(request: Request) -> Response:
    """The Prometheus metrics of this process in the text exposition format."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def problems(settings: Settings) -> list[str]:
    """Why these settings cannot serve a webhook (empty when they can)."""
    found = []
    if not settings.webhook_url:
        found.append("WEBHOOK_URL is not set")
    if settings.webhook_secret is None:
        found.append(
            "WEBHOOK_SECRET is not set: without it anyone could post updates. Set it to 1-256 characters "
            "of A-Z, a-z, 0-9, _ and -, e.g. the output of `openssl rand -hex 32`"
        )
    if settings.webhook_path in HEALTH_PATHS:
        found.append(f"the path of WEBHOOK_URL ({settings.webhook_path}) is taken by the health routes")
    return found


def create_app(
    settings: Settings,
    application: BotApplication,
    *,
    body_seconds: float = BODY_SECONDS,
    seen: UpdateIds | None = None,
) -> Starlette:
    """The Starlette app: POST ``settings.webhook_path`` plus /healthz, /readyz and /metrics."""
    found = problems(settings)
    if found or settings.webhook_secret is None:
        raise ValueError("; ".join(found))
    path = settings.webhook_path
    app = Starlette(
        routes=[
            Route(path, webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
    )
    app.state.webhook = WebhookState(
        application=application,
        secret=settings.webhook_secret.get_secret_value().encode("ascii"),
        max_body_bytes=settings.webhook_max_body_bytes,
        body_seconds=body_seconds,
        seen=seen if seen is not None else UpdateIds(),
    )
    return app
