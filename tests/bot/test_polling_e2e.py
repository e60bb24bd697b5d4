"""End to end over real HTTP on loopback: the real bot long-polls a stub Bot API and answers."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bench.botapi import TOKEN, BotApiStub, Fault
from bot.chat.telegram import build_application
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, QUESTION, MakeSettings
from tests.conftest import ARTICLE_SOURCE, PROJECT
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


def serve_env(engine: Engine, api: BotApiStub, token: str = TOKEN) -> dict[str, str]:
    """The environment of ``python -m bot serve`` against ``api``, over ``engine``'s folders."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))},
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "CORPUS_DIR": str(engine.config.corpus_dir),
        "INDEX_DIR": str(engine.config.index_dir),
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": str(PROJECT),
    }


def test_python_m_bot_serve_long_polls_until_interrupted(article_engine: Engine, tmp_path: Path) -> None:
    """The whole program: settings from the environment, engine opened in post_init, Ctrl-C stops it."""
    with BotApiStub() as api:
        env = serve_env(article_engine, api)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,  # no .env here
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            api.wait_for("getUpdates", timeout=90)
            api.push_update(text_update(QUESTION, language_code="en"))
            (reply,) = api.wait_for("sendMessage", timeout=30)
            assert f"<b>{ANSWER_SENTENCE}</b>" in reply.params["text"]
            assert "paragraph 7" in reply.params["text"]
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "starting long polling" in err
    assert TOKEN not in err and TOKEN.split(":")[1] not in err and TOKEN not in out


def test_a_token_telegram_rejects_stops_serve_with_one_clear_line(article_engine: Engine, tmp_path: Path) -> None:
    wrong = "654321:WRONG-token_that-the-stub-refuses"
    with BotApiStub() as api:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env=serve_env(article_engine, api, token=wrong),
            capture_output=True,
            text=True,
            timeout=90,
        )
    assert done.returncode == 1
    assert "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather" in done.stderr
    assert wrong not in done.stderr and wrong.split(":")[1] not in done.stderr


def test_a_token_revoked_while_polling_ends_serve_with_one_line(article_engine: Engine, tmp_path: Path) -> None:
    """A supervisor restarts a process that exits; one that stays alive without polling is never noticed."""
    with BotApiStub() as api:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env={**serve_env(article_engine, api), "LOG_LEVEL": "INFO"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            api.wait_for("getUpdates", timeout=90)
            api.revoke_token()
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 1, err
    assert err.count("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather") == 1, err
    assert "Traceback" not in err
    assert TOKEN not in err and TOKEN not in out


async def test_an_admins_link_to_a_news_page_is_added_and_answered_with_its_title_date_and_link(
    polling: Polling, own_corpus: Engine
) -> None:
    """The page on a loopback site; the stub Bot API on another: the link in, the answer with its source out."""
    page = (PROJECT / "tests" / "data" / "pages" / "nieuws-snelweg.html").read_bytes()
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
