"""Bad requests to the webhook: each gets its status code and the server keeps answering good ones."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from bot.web.app import SECRET_HEADER
from index import Engine
from tests.support.updates import message_update
from tests.web.conftest import SECRET, WEBHOOK_PATH, RunningServer, StartServer

QUESTION = "Wie is de premier van Armenië?"
MAX_BODY = 64 * 1024


async def raw_request(
    server: RunningServer, head_length: int, body_parts: list[bytes], *, pause: float = 0.0, close_early: bool = False
) -> bytes:
    """Send a POST with Content-Length ``head_length`` and the body in parts; the response's status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.webhook_port)
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{SECRET_HEADER}: {SECRET}\r\nContent-Length: {head_length}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode())
    status_line = asyncio.create_task(reader.readline())  # read while sending: the server may answer early
    try:
        for part in body_parts:
            if status_line.done():
                break
            try:
                writer.write(part)
                await writer.drain()
            except ConnectionError:  # the server answered and hung up before the body was complete
                break
            if pause:
                await asyncio.sleep(pause)
        if close_early:
            status_line.cancel()
            return b""
        return await asyncio.wait_for(status_line, timeout=30)
    finally:
        writer.close()


def status_of(raw: bytes) -> int:
    """The status code in an HTTP status line."""
    return int(raw.split(b" ", 2)[1])


async def assert_still_serving(server: RunningServer, update_id: int, chat_id: int) -> None:
    """A good update after the bad ones is taken and answered."""
    before = len(server.api.calls_to("sendMessage"))
    response = await server.post_update(message_update(update_id, chat_id=chat_id, text=QUESTION))
    assert response.status_code == 200
    calls = await server.api.async_wait_for("sendMessage", before + 1)
    assert any(int(c.params["chat_id"]) == chat_id and c.params["text"] for c in calls)
    assert (await server.client.get("/healthz")).status_code == 200


@pytest.fixture
async def server(start_server: StartServer, article_engine: Engine) -> RunningServer:
    return await start_server(article_engine, webhook_max_body_bytes=MAX_BODY, body_seconds=1.0)


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"hello", 400, "body is not JSON"),
        (b"", 400, "body is not JSON"),
        (b"\xff\xfe\xfa{", 400, "body is not JSON"),
        (b"[1, 2, 3]", 400, "expected a JSON object"),
        (b'"update"', 400, "expected a JSON object"),
        (b'{"message": {}}', 400, "no integer update_id"),
        (b'{"update_id": "7"}', 400, "no integer update_id"),
        (b'{"update_id": true}', 400, "no integer update_id"),
        (b'{"update_id": 7, "message": "text"}', 400, "not a Telegram Update"),
        (b'{"update_id": 7, "message": {"chat": 5}}', 400, "not a Telegram Update"),
        (b'{"update_id": 7, "message": {"message_id": 1, "date": 0, "chat"', 400, "body is not JSON"),
        (b"[" * 30_000 + b"]" * 30_000, 400, "body is not JSON"),
    ],
)
async def test_a_body_that_is_not_an_update_is_rejected(
    server: RunningServer, body: bytes, status: int, reason: str
) -> None:
    response = await server.post_update(body)
    assert response.status_code == status
    assert reason in response.text
    await assert_still_serving(server, 100 + len(body) % 1000, chat_id=701)


def with_message(**fields: object) -> bytes:
    """An update whose message has ``fields`` replaced (a value of None removes the field)."""
    update = message_update(7, chat_id=713, text=QUESTION)
    for name, value in fields.items():
        if value is None:
            del update["message"][name]
        else:
            update["message"][name] = value
    return json.dumps(update).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (with_message(text=5), "message.text must be a string"),
        (with_message(text=["Wie", "is", "het?"]), "message.text must be a string"),
        (with_message(text={"q": QUESTION}), "message.text must be a string"),
        (with_message(text=True), "message.text must be a string"),
        (with_message(chat=None), "message.chat is missing"),
        (with_message(chat={"id": "713", "type": "private"}), "message.chat.id must be an integer"),
        (with_message(entities=[{"type": "bold", "offset": "0", "length": 3}]), "offset must be an integer"),
        (with_message(reply_to_message={"message_id": 1, "date": 0}), "reply_to_message.chat is missing"),
        (
            b'{"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 713, "type": "private"}, '
            b'"text": "Wie is \\ud800 Lvova-Belova?"}}',
            "lone surrogate",
        ),
        (
            b'{"update_id": 7, "callback_query": {"id": "1", "from": {"id": 713}, "data": 17}}',
            "callback_query.data must be a string",
        ),
        (b'{"update_id": 7, "callback_query": {"id": "1", "data": "more:x:3"}}', "callback_query.from is missing"),
    ],
)
async def test_an_update_with_fields_of_the_wrong_type_is_rejected(
    server: RunningServer, body: bytes, reason: str
) -> None:
    response = await server.post_update(body)
    assert response.status_code == 400
    assert "not a Telegram Update" in response.text and reason in response.text
    await asyncio.sleep(0.2)
    assert server.api.calls_to("sendMessage") == []  # nothing was queued, so nothing failed later
    await assert_still_serving(server, 100 + len(body) % 1000, chat_id=714)


async def test_unknown_fields_are_accepted_and_answered(server: RunningServer) -> None:
    update = message_update(200, chat_id=702, text=QUESTION)
    update["message"]["future_field"] = {"nested": [1, 2]}
    update["some_update_kind_from_the_future"] = {"x": 1}
    response = await server.post_update(update)
    assert response.status_code == 200
    (reply,) = await server.api.async_wait_for("sendMessage", 1)
    assert int(reply.params["chat_id"]) == 702 and reply.params["text"]


async def test_a_10_mb_body_is_refused_unread(server: RunningServer) -> None:
    too_large = REGISTRY.get_sample_value("bot_webhook_updates_total", {"result": "too_large"}) or 0.0
    big = json.dumps({"update_id": 300, "padding": "x" * 10_000_000}).encode()
    started = time.perf_counter()
    raw = await raw_request(server, len(big), [])  # Content-Length alone decides: nothing is read
    assert status_of(raw) == 413
    assert time.perf_counter() - started < 5
    response = await server.post_update(big)  # the whole body on the wire, through a normal client
    assert response.status_code == 413
    assert (REGISTRY.get_sample_value("bot_webhook_updates_total", {"result": "too_large"}) or 0) - too_large == 2
    await assert_still_serving(server, 301, chat_id=703)


async def test_a_chunked_body_over_the_cap_is_cut_off(server: RunningServer) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 4096

    response = await server.client.post(
        WEBHOOK_PATH, content=chunks(), headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    await assert_still_serving(server, 302, chat_id=704)


async def test_a_body_shorter_than_announced_times_out(server: RunningServer) -> None:
    body = json.dumps(message_update(400, chat_id=705, text=QUESTION)).encode()
    raw = await raw_request(server, len(body), [body[: len(body) // 2]])
    assert status_of(raw) == 408
    await assert_still_serving(server, 401, chat_id=706)


async def test_a_slow_client_is_cut_off(server: RunningServer) -> None:
    body = json.dumps(message_update(402, chat_id=707, text=QUESTION)).encode()
    started = time.perf_counter()
    raw = await raw_request(server, len(body), [body[i : i + 8] for i in range(0, len(body), 8)], pause=0.2)
    assert status_of(raw) == 408
    assert time.perf_counter() - started < 10
    await asyncio.sleep(0.3)
    assert server.api.calls_to("sendMessage") == []  # the update was never taken
    await assert_still_serving(server, 403, chat_id=708)


async def test_a_client_that_hangs_up_mid_body_leaves_the_server_up(server: RunningServer) -> None:
    body = json.dumps(message_update(404, chat_id=709, text=QUESTION)).encode()
    for _ in range(5):
        await raw_request(server, len(body), [body[:20]], close_early=True)
    await assert_still_serving(server, 405, chat_id=710)


async def test_bad_requests_in_a_burst_leave_the_server_up(server: RunningServer) -> None:
    bad = [b"nope", b"[]", b'{"update_id": "x"}', b"{" * 10]
    results = await asyncio.gather(
        *(server.post_update(bad[i % len(bad)]) for i in range(40)),
        *(server.post_update(message_update(500, 711, QUESTION), secret="wrong") for _ in range(10)),
    )
    assert sorted({r.status_code for r in results}) == [400, 403]
    await assert_still_serving(server, 501, chat_id=712)
