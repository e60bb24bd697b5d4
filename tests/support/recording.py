"""A request class for python-telegram-bot that records Bot API calls instead of sending them.

Like python-telegram-bot's own ``OfflineRequest`` (tests/auxil/networking.py), it sits at the
HTTP boundary: the real ``Bot`` serialises every call, and this class answers with what the
Bot API would return, so handlers run unchanged against it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from tests.support.botapi import Call, api_result


class RecordingRequest(BaseRequest):
    """Answers Bot API calls locally and keeps them in ``calls``; files come from ``files``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.failures: dict[str, list[tuple[int, str]]] = {}
        self._message_ids = itertools.count(5000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    def fail(
        self, method: str, status: int = 400, description: str = "Bad Request: chat not found", times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status`` and ``description``."""
        self.failures.setdefault(method, []).extend([(status, description)] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self) -> list[dict[str, Any]]:
        """Parameters of every sendMessage, oldest first."""
        return [c.params for c in self.calls_to("sendMessage")]

    def texts(self) -> list[str]:
        """Text of every sendMessage and editMessageText, oldest first."""
        return [str(c.params.get("text", "")) for c in self.calls if c.method in ("sendMessage", "editMessageText")]

    def clear(self) -> None:
        self.calls.clear()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file download
            file_id = url.rsplit("/", 1)[-1]
            return (200, self.files[file_id]) if file_id in self.files else (404, b"")
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        call = Call(name, params)
        self.calls.append(call)
        if self.failures.get(name):
            status, description = self.failures[name].pop(0)
            return status, json.dumps({"ok": False, "error_code": status, "description": description}).encode()
        call.result = self._result(name, params)
        return 200, json.dumps({"ok": True, "result": call.result}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        return api_result(method, params, self.files, self._message_ids)
