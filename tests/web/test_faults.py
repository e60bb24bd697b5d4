"""A failing Bot API while updates arrive: replies are retried or the failure logged; nothing crashes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY

from bot.core.redact import reader_tag
from bot.core.texts import text
from index import Engine
from tests.support.botapi import BotApiStub, Fault
from tests.support.updates import message_update
from tests.web.conftest import RunningServer, StartServer

QUESTION = "Wie is Maria Lvova-Belova?"
APOLOGY = text("nl", "error")  # what the error handler tells a chat whose answer failed


def errors_counted() -> float:
    return REGISTRY.get_sample_value("bot_errors_total") or 0.0


async def server_failing(start_server: StartServer, engine: Engine, *faults: Fault) -> tuple[RunningServer, float]:
    """A server whose Bot API will fail as ``faults`` say, and the errors counted before."""
    server = await start_server(engine)
    for fault in faults:
        server.api.fail(fault)
    return server, errors_counted()


async def send_burst(server: RunningServer, first_update: int, chats: range) -> None:
    """One question from each chat; every webhook request is taken at once."""
    responses = await asyncio.gather(
        *(server.post_update(message_update(first_update + i, chat, QUESTION)) for i, chat in enumerate(chats))
    )
    assert [r.status_code for r in responses] == [200] * len(chats)


def delivered(server: RunningServer) -> set[int]:
    """Chats that a sendMessage reached (answered 200 by the stub)."""
    return {int(c.params["chat_id"]) for c in server.api.calls_to("sendMessage") if c.status == 200}


def sent_to(server: RunningServer, chat_id: int) -> list[tuple[int, str]]:
    """``(status, text)`` of every sendMessage to ``chat_id``, oldest first."""
    calls = server.api.calls_to("sendMessage")
    return [(c.status, str(c.params["text"])) for c in calls if int(c.params["chat_id"]) == chat_id]


async def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``check`` until it holds; AssertionError naming ``what`` once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.05)


async def wait_delivered(server: RunningServer, chats: range) -> None:
    """Wait (bounded) until every chat in ``chats`` got a message through."""
    await eventually(lambda: set(chats) <= delivered(server), f"a message delivered to each of {chats}")


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
    await wait_delivered(server, chats)
    ok = [c for c in server.api.calls_to("sendMessage") if c.status == 200]
    assert sorted(int(c.params["chat_id"]) for c in ok) == list(chats)  # each answered, once
    assert all("Lvova-Belova" in str(c.params["text"]) for c in ok)
    assert len([c for c in server.api.calls_to("sendMessage") if c.status == 429]) == 3
    await assert_recovered(server, 100, 811)


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_logged_and_the_bot_carries_on(
    start_server: StartServer, article_engine: Engine, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    chats, failing = range(820, 830), range(820, 826)
    # The first message to each failing chat (its answer) fails once, whatever order the burst is
    # served in; a fault budget shared by all chats could also take an apology, and then the test
    # would depend on scheduling (the case of both failing has its own test below).
    server, errors = await server_failing(
        start_server, article_engine, *(Fault("sendMessage", status=status, chat_id=chat) for chat in failing)
    )
    with caplog.at_level(logging.WARNING):
        await send_burst(server, 1, chats)
        await wait_delivered(server, chats)
    for chat in chats:
        sent = sent_to(server, chat)
        if chat in failing:  # the answer failed, the apology got through
            assert [s for s, _ in sent] == [status, 200], chat
            assert "Lvova-Belova" in sent[0][1] and sent[1][1] == APOLOGY, chat
        else:
            assert [s for s, _ in sent] == [200] and "Lvova-Belova" in sent[0][1], chat
    assert errors_counted() - errors == len(failing)
    logged = [r.getMessage() for r in caplog.records if "error while handling an update" in r.getMessage()]
    # Each failing chat is named by its tag, never its id (``reader_tag``).
    assert all(any(f"chat {reader_tag(chat)}," in m for m in logged) for chat in failing), logged
    assert not [m for m in logged for chat in failing if f"chat {chat}," in m]
    await assert_recovered(server, 100, 831)


async def test_a_chat_whose_apology_fails_too_is_logged_and_answered_later(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram failing twice for one chat: nothing reaches it, which is logged; the bot carries on."""
    server, errors = await server_failing(
        start_server, article_engine, Fault("sendMessage", status=502, times=2, chat_id=860)
    )
    with caplog.at_level(logging.WARNING):
        await send_burst(server, 1, range(860, 862))
        await eventually(
            lambda: any("could not tell the user" in r.getMessage() for r in caplog.records),
            "the failed apology logged",
        )
        await wait_delivered(server, range(861, 862))
    sent = sent_to(server, 860)
    assert [s for s, _ in sent] == [502, 502]
    assert "Lvova-Belova" in sent[0][1] and sent[1][1] == APOLOGY
    assert errors_counted() - errors == 1
    await assert_recovered(server, 100, 860)  # the same chat, asking again, gets its answer


async def test_a_bot_api_that_times_out_is_logged_and_the_bot_carries_on(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # Longer than python-telegram-bot's 5 s read timeout.
    server, errors = await server_failing(
        start_server, article_engine, Fault("sendMessage", status=200, delay=6.5, times=4)
    )
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
