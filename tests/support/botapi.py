"""A small stand-in for the Telegram Bot API on loopback, for tests and benchmarks over real HTTP.

The bot under test is pointed at it with ``TELEGRAM_API_BASE_URL=<stub.base_url>``. The stub
answers the methods the bot uses, records every call, hands out queued updates through
``getUpdates``, serves uploaded files, and can be told to fail (HTTP 500, 429 with
``retry_after``, or a delay; for every chat or one) to test how the bot copes with a failing Telegram.
The benchmarks import it from here too. Its ``Call`` is also what ``RecordingRequest`` records.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.ports import free_port

TOKEN = "123456:TEST-token_for-the-stub"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Article bot", "username": "article_test_bot"}


@dataclass
class Call:
    """One Bot API request the bot made, and what it was answered."""

    method: str
    params: dict[str, Any]
    result: Any = None  # the result sent back, where the answer was a success
    at: float = field(default_factory=time.monotonic)
    status: int = 200  # the HTTP status answered with (a Fault's, when one applied)


@dataclass
class Fault:
    """Make the next ``times`` calls of ``method`` (or of every method, for ``*``) fail; to ``chat_id`` only, if set."""

    method: str
    status: int = 500
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1
    chat_id: int | None = None


def api_result(method: str, params: dict[str, Any], files: dict[str, bytes], message_ids: Iterator[int]) -> Any:
    """What the Bot API answers to ``method``: the sent message, the file's metadata, or true."""
    if method == "getMe":
        return BOT_USER
    if method in ("sendMessage", "editMessageText", "sendDocument"):
        chat_id = int(params.get("chat_id", 0))
        return {
            "message_id": int(params.get("message_id") or next(message_ids)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
    if method == "getFile":
        file_id = str(params.get("file_id"))
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(files.get(file_id, b"")),
            "file_path": f"documents/{file_id}",
        }
    return True


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


class BotApiStub:
    """Run with ``with BotApiStub() as api:``; ``api.base_url`` is the ``base_url`` for the bot."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.port = free_port()
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.faults: list[Fault] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )
        # Keep idle connections open well past httpx's 5 s pool expiry, as Telegram does: with
        # uvicorn's default of 5 s, the stub could close a pooled connection just as the bot
        # reused it, and a sendMessage failed with a ReadError under load.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", timeout_keep_alive=60
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    # -- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def __enter__(self) -> BotApiStub:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("Bot API stub did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # -- what tests use -------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for ``getUpdates``; an ``update_id`` is assigned when missing."""
        with self._changed:
            update.setdefault("update_id", next(self._update_ids))
            self._updates.append(update)
            self._changed.notify_all()
            return int(update["update_id"])

    def add_file(self, file_id: str, content: bytes) -> None:
        """Make ``content`` downloadable as the file ``file_id`` (via getFile)."""
        self.files[file_id] = content

    def revoke_token(self) -> None:
        """Answer every later call with 401, as Telegram does once the token is revoked."""
        with self._lock:
            self.token = "revoked"

    def fail(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        """Block until ``method`` was called ``count`` times; the calls, or AssertionError."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{method} called {len(found)} times, expected {count}")
                self._changed.wait(left)

    async def async_wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[Call]:
        return await asyncio.to_thread(self.wait_for, method, count, timeout)

    # -- the HTTP side --------------------------------------------------------------

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        chat_id = params.get("chat_id")
        with self._lock:
            for fault in self.faults:
                if fault.chat_id is not None and (chat_id is None or int(chat_id) != fault.chat_id):
                    continue
                if fault.method in (method, "*") and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        form = await request.form()
        params = {key: _decode(value) for key, value in form.items() if isinstance(value, str)}
        for key, value in form.items():
            if not isinstance(value, str):  # an uploaded file
                params[key] = await value.read()
        fault = self._take_fault(method, params)
        with self._changed:
            status = 200 if fault is None else (429 if fault.retry_after is not None else fault.status)
            self.calls.append(Call(method, params, status=status))
            self._changed.notify_all()
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.retry_after is not None:
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests",
                    "parameters": {"retry_after": fault.retry_after},
                }
                return JSONResponse(body, status_code=429)
            if fault.status >= 400:
                body = {"ok": False, "error_code": fault.status, "description": "Internal Server Error"}
                return JSONResponse(body, status_code=fault.status)
        if method == "getUpdates":
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates:
                    return list(self._updates)
            if time.monotonic() >= deadline:
                return []
            await asyncio.sleep(0.02)

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        return api_result(method, params, self.files, self._message_ids)

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        file_id = request.path_params["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return Response(status_code=404)
        return Response(self.files[file_id], media_type="application/octet-stream")
