"""The webhook server over real HTTP: secret check, queueing, dedupe, health, readiness, metrics, stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client import REGISTRY

from bot.web.app import SECRET_HEADER
from index import Engine
from index.store import IndexStore
from tests.conftest import ARTICLE
from tests.support.botapi import BotApiStub, Fault
from tests.support.updates import message_update
from tests.web.conftest import SECRET, WEBHOOK_PATH, StartServer, make_application, web_settings

QUESTION = "Wat betekent de aansluiting bij het Strafhof voor Poetin?"


def replies_to(api: BotApiStub, chat_id: int) -> list[str]:
    """Texts the bot sent to ``chat_id``."""
    calls = api.calls_to("sendMessage")
    return [str(c.params.get("text", "")) for c in calls if int(c.params.get("chat_id", 0)) == chat_id]


def updates_counted(result: str) -> float:
    return REGISTRY.get_sample_value("bot_webhook_updates_total", {"result": result}) or 0.0


async def test_registers_the_webhook_with_its_secret(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    (call,) = server.api.calls_to("setWebhook")
    assert call.params["url"] == server.settings.webhook_url
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == [
        "message",
        "edited_message",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
    ]


async def test_an_update_is_answered_in_the_background(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    server.api.fail(Fault("sendMessage", status=200, delay=3.0))  # a slow Telegram must not delay the 200
    started = time.perf_counter()
    response = await server.post_update(message_update(1, chat_id=501, text=QUESTION))
    took = time.perf_counter() - started
    assert response.status_code == 200
    assert took < 3.0, f"the webhook waited {took:.2f}s, as long as the reply"
    await server.api.async_wait_for("sendMessage", 1)
    (reply,) = replies_to(server.api, 501)
    assert "arrestatiebevel" in reply


async def test_wrong_or_missing_secret_is_forbidden_and_ignored(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    forbidden = updates_counted("forbidden")
    for secret in (None, "", "wrong", SECRET + "x", SECRET[:-1], "ünïcode"):
        headers = {SECRET_HEADER.encode(): secret.encode("utf-8")} if secret is not None else {}
        response = await server.client.post(WEBHOOK_PATH, json=message_update(10, 502, QUESTION), headers=headers)
        assert response.status_code == 403, secret
    assert updates_counted("forbidden") - forbidden == 6
    # A good update afterwards is the only thing answered: update 10 was never taken.
    assert (await server.post_update(message_update(10, 503, QUESTION))).status_code == 200
    await server.api.async_wait_for("sendMessage", 1)
    await asyncio.sleep(0.3)
    assert replies_to(server.api, 502) == []
    assert len(replies_to(server.api, 503)) == 1


async def test_a_redelivered_update_is_answered_once(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    update = message_update(20, chat_id=504, text=QUESTION)
    first = await server.post_update(update)
    again = await asyncio.gather(*(server.post_update(update) for _ in range(5)))
    assert first.status_code == 200 and first.text == "ok\n"
    assert [r.status_code for r in again] == [200] * 5 and {r.text for r in again} == {"duplicate\n"}
    # Another update after the copies: once its reply is there, the copies had their chance.
    await server.post_update(message_update(21, chat_id=505, text=QUESTION))
    await server.api.async_wait_for("sendMessage", 2)
    await asyncio.sleep(0.3)
    assert len(replies_to(server.api, 504)) == 1


async def test_health_readiness_and_metrics(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    assert (await server.client.get("/healthz")).status_code == 200
    ready = await server.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "index": article_engine.index.version}
    await server.post_update(message_update(30, chat_id=506, text=QUESTION))
    await server.api.async_wait_for("sendMessage", 1)
    metrics = await server.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in ("bot_webhook_updates_total", "bot_questions_total", "bot_answer_seconds_bucket", "bot_errors_total"):
        assert name in metrics.text
    assert 'bot_webhook_updates_total{result="accepted"}' in metrics.text
    assert (await server.client.get(WEBHOOK_PATH)).status_code == 405


async def test_not_ready_until_the_bot_has_started(
    start_server: StartServer, botapi: BotApiStub, article_engine: Engine
) -> None:
    release = asyncio.Event()
    settings = web_settings(botapi)
    application = make_application(settings, article_engine)
    original = application.post_init

    async def slow_post_init(app: Any) -> None:
        await release.wait()
        if original is not None:
            await original(app)

    application.post_init = slow_post_init
    server = await start_server(article_engine, application=application, wait=False, webhook_port=settings.webhook_port)
    deadline = time.monotonic() + 30
    while True:
        try:
            health = await server.client.get("/healthz")
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the server did not start listening"
            await asyncio.sleep(0.05)
    assert health.status_code == 200
    ready = await server.client.get("/readyz")
    assert ready.status_code == 503
    assert "bot not running" in ready.json()["reasons"]
    early = await server.post_update(message_update(40, chat_id=507, text=QUESTION))
    assert early.status_code == 503  # Telegram delivers it again later
    assert server.api.calls_to("setWebhook") == []  # nothing is registered before the bot can answer
    release.set()
    await server.until_ready()
    await server.api.async_wait_for("setWebhook", 1)
    assert (await server.post_update(message_update(40, chat_id=507, text=QUESTION))).status_code == 200
    await server.api.async_wait_for("sendMessage", 1)


async def test_stop_during_a_reindex_abandons_it_and_the_old_index_stays(
    start_server: StartServer, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine({ARTICLE.name: ARTICLE.read_bytes()})
    engine.load()
    old = engine.index.version
    text = ARTICLE.read_text("utf-8")
    for copy in range(8):  # minutes of embedding on a busy machine: far longer than a stop may take
        (engine.config.corpus_dir / f"copy-{copy}.txt").write_text(text, "utf-8")
    server = await start_server(engine, index_dir=engine.config.index_dir)
    assert (await server.post_update(message_update(70, chat_id=42, text="/reindex"))).status_code == 200
    (started,) = await server.api.async_wait_for("sendMessage", 1)
    assert "De index wordt opnieuw opgebouwd" in str(started.params["text"])
    assert await server.shutdown() == 0
    (summary,) = server.api.calls_to("editMessageText")
    assert "the process is shutting down" in str(summary.params["text"])
    assert IndexStore(engine.config.index_dir).current() == old
    assert [p.name for p in engine.config.index_dir.glob("v-*")] == [old]
    assert list(engine.config.index_dir.glob(".building-*")) == []


async def test_stop_finishes_the_updates_in_flight(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    server.api.fail(Fault("sendMessage", status=200, delay=0.5, times=10))
    for i in range(10):
        assert (await server.post_update(message_update(50 + i, chat_id=600 + i, text=QUESTION))).status_code == 200
    status = await server.shutdown()
    assert status == 0
    assert len(server.api.calls_to("sendMessage")) == 10
    assert server.api.calls_to("deleteWebhook") == []  # other workers keep receiving updates
