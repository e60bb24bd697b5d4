"""Deep links over real HTTP: ``/start <payload>`` from a t.me link answers at once, or says why it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.deeplinks import encode
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, QUESTION
from tests.support.telegram_html import read_html
from tests.support.updates import message_update
from tests.web.conftest import RunningServer, StartServer

SHORT = "Wie is Maria Lvova-Belova?"


async def replies(server: RunningServer, update_id: int, chat_id: int, text: str, count: int) -> list[str]:
    """POST ``text`` from ``chat_id`` and return the texts of the ``count`` messages it gets back."""
    before = len(server.api.calls_to("sendMessage"))
    assert (await server.post_update(message_update(update_id, chat_id, text, language_code="en"))).status_code == 200
    calls = await server.api.async_wait_for("sendMessage", before + count)
    return [str(c.params["text"]) for c in calls[before:] if c.params["chat_id"] == chat_id]


@pytest.fixture
async def linked(start_server: StartServer, article_engine: Engine, tmp_path: Path) -> RunningServer:
    """A webhook server with one prepared question, read from a TOML file as at start-up."""
    (tmp_path / "questions.toml").write_text(f'poetin-bezoek = "{QUESTION}"\n', "utf-8")
    return await start_server(article_engine, prepared_questions=str(tmp_path / "questions.toml"))


async def test_a_link_with_an_encoded_question_answers_it_at_once(linked: RunningServer) -> None:
    said, answered = await replies(linked, 1, 901, f"/start {encode(SHORT)}", 2)
    assert read_html(said)[0] == f"From the link: {SHORT}"
    assert "Lvova-Belova" in read_html(answered)[1]


async def test_a_link_to_a_prepared_question_answers_it_at_once(linked: RunningServer) -> None:
    said, answered = await replies(linked, 2, 902, "/start poetin-bezoek", 2)
    assert QUESTION in said and f"<b>{ANSWER_SENTENCE}</b>" in answered


@pytest.mark.parametrize(
    ("payload", "reply"),
    [
        ("Q" * 65, "That link is too long (65 characters; a Telegram link carries at most 64)."),
        ("poetin<bezoek>", "That link holds characters a Telegram link cannot carry"),
        ("poetin-bezoekje", "That link does not hold a question I know (<code>poetin-bezoekje</code>)"),
        ("AAAA", "That link does not hold a question I know (<code>AAAA</code>)"),
    ],
)
async def test_an_invalid_link_gets_one_clear_reply_and_the_bot_keeps_answering(
    linked: RunningServer, payload: str, reply: str
) -> None:
    (said,) = await replies(linked, 3, 903, f"/start {payload}", 1)
    assert said.startswith(reply) and said.endswith("Type your question here instead.")
    read_html(said)
    (answered,) = await replies(linked, 4, 903, QUESTION, 1)
    assert ANSWER_SENTENCE in answered


async def test_start_without_a_payload_is_still_the_help(linked: RunningServer) -> None:
    (said,) = await replies(linked, 5, 904, "/start", 1)
    assert said.startswith("I answer questions about these documents:")
