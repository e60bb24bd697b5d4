"""A failing Bot API while updates arrive: replies are retried or the failure logged; nothing crashes."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from index import Engine
from tests.support.botapi import BotApiStub, Fault
from tests.support.updates import message_update
from tests.web.conftest import RunningServer, StartServer

QUESTION = "Wie is Maria Lvova-Belova?"


def errors_counted() -> float:
    return REGISTRY.get_sample_value("bot_errors_total") or 0.0


async def send_burst(server: RunningServer, first_update: int, chats: range) -> None:
    """One question from each chat; every webhook request is taken at once."""
    responses = await asyncio.gather(
        *(server.post_update(message_update(first_update + i, chat, QUESTION)) for i, chat in enumerate(chats))
    )
    assert [r.status_code for r in responses] == [200] * len(chats)


def delivered(server: RunningServer) -> set[int]:
    """Chats that a sendMessage reached (answered 200 by the stub)."""
    return {int(c.params["chat_id"]) for c in server.api.calls_to("sendMessage") if c.status == 200}


async def wait_delivered(server: RunningServer, chats: range, attempts: int) -> None:
    """Poll until every chat in ``chats`` got a message through, or ``attempts`` polls have passed."""
    for _ in range(attempts):
        if set(chats) <= delivered(server):
            return
        await asyncio.sleep(0.05)


async def assert_recovered(server: RunningServer, update_id: int, chat_id: int) -> None:
    """After the faults: ready, and a new question gets its answer."""
    assert (await server.client.get("/readyz")).status_code == 200
    await server.post_update(message_update(update_id, chat_id, QUESTION))
    for _ in range(300):
        delivered = [c for c in server.api.calls_to("sendMessage") if int(c.params["chat_id"]) == chat_id]
        if delivered and delivered[-1].status == 200:
            assert "Lvova-Belova" in str(delivered[-1].params["text"])
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no answer after the faults")


async def test_429_with_retry_after_is_waited_out_and_retried(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    server.api.fail(Fault("sendMessage", retry_after=1, times=3))
    chats = range(800, 810)
    await send_burst(server, 1, chats)
    await wait_delivered(server, chats, 400)
    ok = [c for c in server.api.calls_to("sendMessage") if c.status == 200]
    assert sorted(int(c.params["chat_id"]) for c in ok) == list(chats)  # each answered, once
    assert all("Lvova-Belova" in str(c.params["text"]) for c in ok)
    assert len([c for c in server.api.calls_to("sendMessage") if c.status == 429]) == 3
    await assert_recovered(server, 100, 811)


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_logged_and_the_bot_carries_on(
    start_server: StartServer, article_engine: Engine, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine)
    errors = errors_counted()
    server.api.fail(Fault("sendMessage", status=status, times=6))
    chats = range(820, 830)
    with caplog.at_level(logging.WARNING):
        await send_burst(server, 1, chats)
        # Every chat ends with a delivered message: its answer, or the apology when the answer failed.
        await wait_delivered(server, chats, 300)
    assert delivered(server) >= set(chats)
    assert errors_counted() - errors >= 1
    assert any("error while handling an update" in r.getMessage() for r in caplog.records)
    await assert_recovered(server, 100, 831)


async def test_a_bot_api_that_times_out_is_logged_and_the_bot_carries_on(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine)
    errors = errors_counted()
    # Longer than python-telegram-bot's 5 s read timeout.
    server.api.fail(Fault("sendMessage", status=200, delay=6.5, times=4))
    chats = range(840, 844)
    with caplog.at_level(logging.WARNING):
        await send_burst(server, 1, chats)
        assert (await server.client.get("/healthz")).status_code == 200  # the server is not held up meanwhile
        for _ in range(400):
            if errors_counted() - errors >= 4:
                break
            await asyncio.sleep(0.05)
    assert errors_counted() - errors >= 4
    assert any("TimedOut" in (r.exc_text or "") or "Timed out" in (r.exc_text or "") for r in caplog.records)
    await assert_recovered(server, 100, 845)


async def test_set_webhook_is_retried_at_start(
    start_server: StartServer, botapi: BotApiStub, article_engine: Engine
) -> None:
    botapi.fail(Fault("setWebhook", status=500, times=1))
    server = await start_server(article_engine)
    calls = await server.api.async_wait_for("setWebhook", 2)
    assert [c.status for c in calls] == [500, 200]
    await assert_recovered(server, 100, 850)


async def test_a_refused_webhook_stops_the_server_with_status_1(
    start_server: StartServer, botapi: BotApiStub, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    botapi.fail(Fault("setWebhook", status=400, times=10))  # e.g. "bad webhook: HTTPS url must be provided"
    server = await start_server(article_engine, wait=False)
    assert await asyncio.wait_for(server.task, timeout=60) == 1
    assert any("could not start" in r.getMessage() for r in caplog.records)
    assert len(server.api.calls_to("setWebhook")) == 1  # a refusal is not retried
