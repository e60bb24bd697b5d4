"""Inline mode over real HTTP: ``@bot question`` in any chat, through the webhook and the stub Bot API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from prometheus_client import REGISTRY

from bot.core.settings import DEFAULT_EXAMPLES
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, OFF_TOPIC, QUESTION
from tests.conftest import ARTICLE, ARTICLE_SOURCE, ARTICLE_TITLE
from tests.support.telegram_html import read_html
from tests.support.updates import chosen_update, inline_update, message_update
from tests.web.conftest import RunningServer, StartServer


async def inline_answer(server: RunningServer, update: dict[str, Any]) -> dict[str, Any]:
    """POST an inline query and return the parameters of the bot's answerInlineQuery for it."""
    query_id = update["inline_query"]["id"]
    assert (await server.post_update(update)).status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for call in server.api.calls_to("answerInlineQuery"):
            if str(call.params["inline_query_id"]) == query_id:
                return call.params
        await asyncio.sleep(0.02)
    raise AssertionError(f"inline query {query_id} was not answered")


def counted(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_an_inline_question_offers_the_passages_as_sent_in_chat(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    answer = await inline_answer(server, inline_update(QUESTION))
    assert answer["cache_time"] == 300 and answer["is_personal"] is True
    results = answer["results"]
    assert len(results) == 3 and len({r["id"] for r in results}) == 3  # TOP_K, each its own id
    first = results[0]
    assert first["type"] == "article" and first["title"] == f"{ARTICLE_TITLE} · alinea 7"
    assert first["description"].startswith(ANSWER_SENTENCE)
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    shown, bold = read_html(content["message_text"])
    assert shown.startswith(f"{ARTICLE_SOURCE} · alinea 7\nWil Poetin") and bold == ANSWER_SENTENCE
    assert ARTICLE.name not in json.dumps(results, ensure_ascii=False)  # titles, never the file name

    # The same passage, to the letter, as the bot's own chat shows it.
    assert (await server.post_update(message_update(1, chat_id=811, text=QUESTION))).status_code == 200
    (chat,) = await server.api.async_wait_for("sendMessage")
    assert chat.params["text"].startswith(content["message_text"] + "\n\n")


async def test_the_chosen_result_is_counted_and_nothing_else_is_sent(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    chosen, errors = counted("bot_inline_chosen_total", {"kind": "passage"}), counted("bot_errors_total", {})
    answer = await inline_answer(server, inline_update(QUESTION))
    response = await server.post_update(chosen_update(answer["results"][0]["id"], QUESTION))
    assert response.status_code == 200
    deadline = time.monotonic() + 10
    while counted("bot_inline_chosen_total", {"kind": "passage"}) == chosen and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert counted("bot_inline_chosen_total", {"kind": "passage"}) == chosen + 1
    assert counted("bot_errors_total", {}) == errors
    assert not server.api.calls_to("sendMessage")  # Telegram sends the chosen message itself


async def test_an_off_topic_query_gets_one_result_saying_so_in_the_users_language(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    for lng, title in (("en", "The article does not cover this"), ("nl", "Dat staat niet in het artikel")):
        (result,) = (await inline_answer(server, inline_update(OFF_TOPIC, language_code=lng)))["results"]
        assert result["title"] == title
        assert ARTICLE_TITLE in result["description"]
        shown, bold = read_html(result["input_message_content"]["message_text"])
        assert ARTICLE_TITLE in shown and bold == "" and ARTICLE.name not in shown


async def test_an_empty_query_offers_the_example_questions(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    results = (await inline_answer(server, inline_update("   ")))["results"]
    assert [r["title"] for r in results] == list(DEFAULT_EXAMPLES)
    assert ANSWER_SENTENCE in results[0]["description"]
    for result in results:
        shown, bold = read_html(result["input_message_content"]["message_text"])
        assert shown.startswith(ARTICLE_TITLE) and bold


async def test_a_query_over_the_question_limit_gets_one_result_saying_why(
    start_server: StartServer, article_engine: Engine
) -> None:
    strict = Engine(replace(article_engine.config, max_question_chars=20), article_engine.encoder)
    strict.load()  # the article's index, read: the engine's own question check is the one under test
    server = await start_server(strict, max_question_chars=20)
    length = len(QUESTION)
    (result,) = (await inline_answer(server, inline_update(QUESTION, language_code="en")))["results"]
    assert result["title"] == f"That question is too long ({length} characters; the limit is 20). Please shorten it."
    assert read_html(result["input_message_content"]["message_text"])[0] == result["title"]
    (dutch,) = (await inline_answer(server, inline_update(QUESTION, language_code="nl")))["results"]
    assert dutch["title"] == f"Die vraag is te lang ({length} tekens; het maximum is 20). Maak hem korter."
    # Nothing else changed: the next query is answered as usual.
    (short,) = (await inline_answer(server, inline_update(OFF_TOPIC[:20], language_code="en")))["results"]
    assert short["title"] == "The article does not cover this"


async def test_past_the_inline_limit_a_user_gets_no_results_and_no_search_until_the_window_passes(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine, inline_throttle_queries=2, inline_throttle_seconds=1.5)
    throttled = counted("bot_inline_queries_total", {"outcome": "throttled"})
    refused = counted("bot_inline_queries_total", {"outcome": "refused"})
    for _ in range(2):
        assert len((await inline_answer(server, inline_update(QUESTION, user_id=31)))["results"]) == 3
    late = await inline_answer(server, inline_update(OFF_TOPIC, user_id=31))
    assert late["results"] == [] and late["cache_time"] == 0 and late["is_personal"] is True
    assert counted("bot_inline_queries_total", {"outcome": "throttled"}) == throttled + 1
    assert counted("bot_inline_queries_total", {"outcome": "refused"}) == refused  # not searched
    # Another user, and the chat's own question window, are not affected.
    assert len((await inline_answer(server, inline_update(QUESTION, user_id=32)))["results"]) == 3
    assert (await server.post_update(message_update(1, chat_id=31, text=QUESTION))).status_code == 200
    (chat,) = await server.api.async_wait_for("sendMessage")
    assert read_html(chat.params["text"])[1].startswith(ANSWER_SENTENCE)  # answered as usual
    await asyncio.sleep(1.6)
    (again,) = (await inline_answer(server, inline_update(OFF_TOPIC, user_id=31)))["results"]
    assert again["title"] == "Dat staat niet in het artikel"


async def test_malformed_inline_updates_are_refused_before_they_reach_a_handler(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    bad_query = inline_update(QUESTION)
    bad_query["inline_query"]["query"] = 5
    bad_chosen = chosen_update("p0", QUESTION)
    del bad_chosen["chosen_inline_result"]["from"]
    for update, problem in ((bad_query, "inline_query.query"), (bad_chosen, "chosen_inline_result.from")):
        response = await server.post_update(update)
        assert response.status_code == 400 and problem in response.text
    assert not server.api.calls_to("answerInlineQuery")


async def test_an_inline_result_links_to_its_article(
    start_server: StartServer, make_engine: Callable[..., Engine]
) -> None:
    article = "title: Vuurtoren van Texel\ndate: 2024-05-02\nurl: https://krant.example/texel?x=1&y=2\n\n"
    engine = make_engine({"texel.txt": article + "De vuurtoren van Texel is in 1864 gebouwd en is 35 meter hoog.\n"})
    engine.load()
    server = await start_server(engine)
    answer = await inline_answer(server, inline_update("Hoe hoog is de vuurtoren van Texel?"))
    (first,) = answer["results"][:1]
    assert first["title"] == "Vuurtoren van Texel · alinea 1"
    assert first["url"] == "https://krant.example/texel?x=1&y=2"
    content = first["input_message_content"]
    assert content["message_text"].startswith(
        '<i><a href="https://krant.example/texel?x=1&amp;y=2">Vuurtoren van Texel</a> (2024-05-02) · alinea 1</i>'
    )
    assert content["link_preview_options"] == {"is_disabled": True}
    read_html(content["message_text"])
