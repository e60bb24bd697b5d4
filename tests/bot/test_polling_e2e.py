"""End to end over real HTTP on loopback: the real bot long-polls a stub Bot API and answers."""

from __future__ import annotations

import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.chat.telegram import build_application
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, QUESTION, MakeSettings
from tests.conftest import ARTICLE_SOURCE
from tests.support.botapi import TOKEN, BotApiStub, Fault
from tests.support.paths import DATA, copy_built
from tests.support.processes import Child, serve_bot
from tests.support.updates import ADMIN_ID, callback_update, document_update, text_update
from tests.support.web import Route, serve

Polling = Callable[..., Awaitable[BotApiStub]]


@pytest.fixture
async def polling(make_settings: MakeSettings) -> AsyncIterator[Polling]:
    """Start a stub Bot API and the real application long-polling it; both stop after the test."""
    running: list[tuple[Application, BotApiStub]] = []

    async def start(engine: Engine, **settings: Any) -> BotApiStub:
        api = BotApiStub().__enter__()
        app = build_application(
            make_settings(telegram_api_base_url=api.base_url, **settings), engine=engine, polling=True
        )
        await app.initialize()
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        running.append((app, api))
        return api

    yield start
    for app, api in running:
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        api.__exit__(None, None, None)


def texts(api: BotApiStub, method: str = "sendMessage") -> list[str]:
    return [str(call.params.get("text", "")) for call in api.calls_to(method)]


async def test_a_private_question_gets_the_arrest_paragraph_with_the_sentence_in_bold(
    polling: Polling, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = await polling(article_engine, corpus_dir=article_engine.config.corpus_dir)
    api.push_update(text_update(QUESTION))
    (reply,) = await api.async_wait_for("sendMessage")
    assert reply.params["parse_mode"] == "HTML"
    assert reply.params["chat_id"] == 4242
    assert f"<b>{ANSWER_SENTENCE}</b>" in reply.params["text"]
    assert reply.params["text"].startswith(f"<i>{ARTICLE_SOURCE} · alinea 7</i>")
    # Start-up: the command menu was published and polling cleared any webhook first.
    assert api.calls_to("setMyCommands") and api.calls_to("deleteWebhook") and api.calls_to("getMe")
    assert caplog.records, "nothing was logged, so the token check below would prove nothing"
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


async def test_the_more_button_sends_the_next_passages_over_http(polling: Polling, article_engine: Engine) -> None:
    api = await polling(article_engine, corpus_dir=article_engine.config.corpus_dir)
    api.push_update(text_update(QUESTION))
    (first,) = await api.async_wait_for("sendMessage")
    data = first.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    api.push_update(callback_update(data, message_id=1000))
    await api.async_wait_for("sendMessage", 2)
    (answered,) = await api.async_wait_for("answerCallbackQuery")
    assert "text" not in answered.params  # a silent acknowledgement: the passages are the answer
    second = texts(api)[1]
    assert "alinea 7" not in second and "alinea" in second
    (cleared,) = await api.async_wait_for("editMessageReplyMarkup")
    assert cleared.params["message_id"] == 1000


async def test_a_flood_limit_from_telegram_is_waited_out_not_lost(polling: Polling, article_engine: Engine) -> None:
    api = await polling(article_engine, corpus_dir=article_engine.config.corpus_dir)
    api.fail(Fault("sendMessage", retry_after=1))
    api.push_update(text_update(QUESTION))
    calls = await api.async_wait_for("sendMessage", 2)
    assert calls[1].at - calls[0].at >= 1.0  # the retry came after retry_after, not at once
    assert ANSWER_SENTENCE in str(calls[1].params["text"])


async def test_an_admin_upload_is_downloaded_indexed_and_answered(
    polling: Polling, own_corpus: Engine, tmp_path: Path
) -> None:
    api = await polling(own_corpus, corpus_dir=own_corpus.config.corpus_dir)
    content = b"date 2024-05\n\nDe vuurtoren van Texel is in 1864 gebouwd en is 35 meter hoog.\n"
    api.add_file("doc-1", content)
    api.push_update(document_update("texel.txt", "doc-1", len(content), user_id=ADMIN_ID))
    (progress,) = await api.async_wait_for("sendMessage")
    assert "texel.txt" in progress.params["text"]
    (summary,) = await api.async_wait_for("editMessageText", timeout=60)
    assert "2 documenten" in summary.params["text"]
    assert (own_corpus.config.corpus_dir / "texel.txt").read_bytes() == content
    api.push_update(text_update("Hoe hoog is de vuurtoren van Texel?"))
    replies = await api.async_wait_for("sendMessage", 2)
    assert "<b>De vuurtoren van Texel is in 1864 gebouwd en is 35 meter hoog.</b>" in replies[1].params["text"]


def serving(api: BotApiStub, article_engine: Engine, folder: Path, **env: str) -> Child:
    """``python -m bot serve`` long-polling ``api`` at LOG_LEVEL=DEBUG (``env`` over that), over a
    copy of the article and its index in ``folder`` (no .env there)."""
    built = copy_built(article_engine.config, folder)
    settings = {"LOG_LEVEL": "DEBUG", **env}
    corpus, index = built / "corpus", built / "index"
    return serve_bot(api, folder, corpus=corpus, index=index, webhook=False, env=settings, name="serve")


def polls(api: BotApiStub) -> Callable[[], bool]:
    """Whether the bot has started long-polling ``api``."""
    return lambda: bool(api.calls_to("getUpdates"))


def test_python_m_bot_serve_long_polls_until_interrupted(article_engine: Engine, tmp_path: Path) -> None:
    """The whole program: settings from the environment, engine opened in post_init, Ctrl-C stops it."""
    with BotApiStub() as api, serving(api, article_engine, tmp_path) as bot:
        try:
            bot.wait_ready(polls(api), timeout=90)
            api.push_update(text_update(QUESTION, language_code="en"))
            (reply,) = api.wait_for("sendMessage", timeout=30)
            assert f"<b>{ANSWER_SENTENCE}</b>" in reply.params["text"]
            assert "paragraph 7" in reply.params["text"]
        finally:
            status = bot.stop(signal.SIGINT, timeout=30)
    log = bot.output()
    assert status == 0, log
    assert "starting long polling" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_a_token_telegram_rejects_stops_serve_with_one_clear_line(article_engine: Engine, tmp_path: Path) -> None:
    wrong = "654321:WRONG-token_that-the-stub-refuses"
    with BotApiStub() as api, serving(api, article_engine, tmp_path, TELEGRAM_BOT_TOKEN=wrong) as bot:
        status = bot.stop(None, timeout=90)
    log = bot.output()
    assert status == 1
    assert "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather" in log
    assert wrong not in log and wrong.split(":")[1] not in log


def test_a_token_revoked_while_polling_ends_serve_with_one_line(article_engine: Engine, tmp_path: Path) -> None:
    """A supervisor restarts a process that exits; one that stays alive without polling is never noticed."""
    with BotApiStub() as api, serving(api, article_engine, tmp_path, LOG_LEVEL="INFO") as bot:
        bot.wait_ready(polls(api), timeout=90)
        api.revoke_token()
        status = bot.stop(None, timeout=60)
    log = bot.output()
    assert status == 1, log
    assert log.count("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather") == 1, log
    assert "Traceback" not in log
    assert TOKEN not in log


async def test_an_admins_link_to_a_news_page_is_added_and_answered_with_its_title_date_and_link(
    polling: Polling, own_corpus: Engine
) -> None:
    """The page on a loopback site; the stub Bot API on another: the link in, the answer with its source out."""
    page = (DATA / "pages" / "nieuws-snelweg.html").read_bytes()
    with serve() as site:
        site.routes["/a12"] = Route(page)
        api = await polling(own_corpus, corpus_dir=own_corpus.config.corpus_dir, allow_private_urls=True)
        api.push_update(text_update(site.url("/a12"), user_id=ADMIN_ID))
        (added,) = await api.async_wait_for("sendMessage")
        assert added.params["text"].startswith(
            "<b>Snelweg A12 urenlang dicht na kettingbotsing bij Woerden</b> (2024-03-14) toegevoegd als <code>"
        )
        (summary,) = await api.async_wait_for("editMessageText", timeout=60)
        assert "2 documenten" in summary.params["text"]
    api.push_update(text_update("Hoeveel mensen raakten gewond bij de kettingbotsing op de A12?"))
    answer = (await api.async_wait_for("sendMessage", 2))[1]
    text = str(answer.params["text"])
    assert text.startswith(
        '<i><a href="https://dagnieuws.example/binnenland/a12-dicht-kettingbotsing">Snelweg A12 urenlang dicht na '
        "kettingbotsing bij Woerden</a> (2024-03-14) · alinea 1</i>"
    )
    assert "Vier mensen raakten gewond, van wie één ernstig." in text.split("\n")[1]  # paragraph 1 answers it
    assert answer.params["link_preview_options"] == {"is_disabled": True}
    indexed = " ".join(p.text for p in own_corpus.index.paragraphs)
    assert "Henk58" not in indexed and "cookies" not in indexed and "Code oranje" not in indexed
