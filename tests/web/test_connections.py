"""Connections that send nothing, or send slowly, are cut off and capped: the webhook stays reachable."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from pathlib import Path

import httpx
import pytest

from index import Engine
from tests.support.botapi import BotApiStub
from tests.support.paths import copy_built
from tests.web.conftest import WEBHOOK_PATH, StartServer
from tests.web.test_bad_input import assert_still_serving
from tests.web.workers import start_worker


async def test_idle_connections_past_the_cap_do_not_take_the_server_offline(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine, head_seconds=1.0, webhook_max_connections=20)
    idle = [await asyncio.open_connection("127.0.0.1", server.settings.webhook_port) for _ in range(60)]
    assert (await server.client.get("/healthz")).status_code == 200
    await assert_still_serving(server, 800, chat_id=801)
    started = time.monotonic()
    for reader, writer in idle:  # every one closed by the server: past the cap at once, the rest after 1 s
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""
        writer.close()
    assert time.monotonic() - started < 5
    pressure = [r.getMessage() for r in caplog.records if r.name == "bot.web.connections"]
    assert len(pressure) == 1 and pressure[0].startswith("over 20 connections: closing the longest idle")


async def test_a_request_head_sent_slowly_is_cut_off(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine, head_seconds=1.0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.webhook_port)
    head = f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    started = time.monotonic()
    closed = False
    for byte in head:
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            closed = True
            break
        if reader.at_eof() or time.monotonic() - started > 5:
            break
        await asyncio.sleep(0.2)
    closed = closed or await asyncio.wait_for(reader.read(), timeout=5) == b""
    assert closed and time.monotonic() - started < 4
    writer.close()
    assert (await server.client.get("/healthz")).status_code == 200


async def test_accepts_refused_for_lack_of_descriptors_are_logged_once(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine)
    loop = asyncio.get_running_loop()
    for _ in range(100):  # what asyncio reports for each accept() that fails with EMFILE
        loop.call_exception_handler(
            {
                "message": "socket.accept() out of system resource",
                "exception": OSError(errno.EMFILE, "Too many open files"),
            }
        )
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage().startswith("cannot accept connections: Too many open files; retrying")
    assert record.exc_info is None
    assert (await server.client.get("/healthz")).status_code == 200


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def test_a_worker_with_256_descriptors_outlasts_300_idle_connections(
    botapi: BotApiStub, article_engine: Engine, tmp_path: Path
) -> None:
    """The issue's case: 300 sockets that never send a byte, against a process allowed 256 files."""
    built = copy_built(article_engine.config, tmp_path)
    worker = start_worker("low-limit", botapi, built / "corpus", built / "index", tmp_path, preexec=_low_file_limit)
    idle: list[socket.socket] = []
    try:
        worker.wait_ready()
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", worker.port)))
        for _ in range(5):  # for several head deadlines, while the attack goes on
            assert httpx.get(f"{worker.url}/healthz", timeout=10).status_code == 200
            time.sleep(1)
    finally:
        for connection in idle:
            connection.close()
        assert worker.stop() == 0
    output = worker.output()
    assert "at most 192 connections" in output
    assert "Traceback" not in output and "out of system resource" not in output
    assert output.count("over 192 connections") == 1
