"""Conversation handlers with real Update objects, the real engine and a recording Bot API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.core import metrics
from bot.core.redact import reader_tag
from index import Engine
from index.documents import MAX_PARAGRAPH_CHARS
from tests.bot.conftest import ANSWER_SENTENCE, HEDGE, OFF_TOPIC, QUESTION, Bot, MakeBot
from tests.conftest import ARTICLE, ARTICLE_SOURCE, ARTICLE_TITLE
from tests.support.botapi import TOKEN
from tests.support.telegram_html import read_html
from tests.support.updates import (
    GROUP_ID,
    USER_ID,
    callback_update,
    document_update,
    edited_update,
    mention,
    message,
    text_update,
    update,
)

UNCOVERED = "What is the weather in Paris tomorrow?"

STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}


def more_button(call_params: dict[str, object]) -> str:
    markup = call_params["reply_markup"]
    assert isinstance(markup, dict)
    return str(markup["inline_keyboard"][0][0]["callback_data"])


def counted(outcome: str) -> float:
    return metrics.QUESTIONS.labels(outcome)._value.get()


async def test_a_private_question_is_answered_with_the_arrest_paragraph(article_bot: Bot) -> None:
    answered = counted("answered")
    (call,) = await article_bot.send(text_update(QUESTION))
    assert call.method == "sendMessage" and call.params["parse_mode"] == "HTML"
    text = str(call.params["text"])
    shown, bold = read_html(text)
    assert shown.startswith(f"{ARTICLE_SOURCE} · alinea 7\nWil Poetin nu Armenië bezoeken")
    assert bold.startswith(ANSWER_SENTENCE)
    assert shown.count(" · alinea ") == 3  # TOP_K passages
    assert more_button(call.params).startswith("more:")
    assert "reply_parameters" not in call.params  # no quoting in a private chat
    assert counted("answered") == answered + 1


async def test_english_users_get_english_labels_around_the_dutch_text(article_bot: Bot) -> None:
    (reply,) = await article_bot.replies(text_update(QUESTION, language_code="en"))
    assert "paragraph 7" in reply and ANSWER_SENTENCE in reply
    (reply,) = await article_bot.replies(text_update(UNCOVERED, language_code="en"))
    shown, bold = read_html(reply)
    assert shown.startswith("The article does not say.") and ARTICLE_TITLE in shown
    assert bold == "" and "paragraph" not in shown


async def test_an_uncovered_question_gets_an_honest_answer_in_dutch(article_bot: Bot) -> None:
    unanswered = counted("unanswered")
    (call,) = await article_bot.send(text_update(UNCOVERED))
    assert str(call.params["text"]).startswith("Dat staat niet in het artikel.")
    assert "reply_markup" not in call.params
    assert counted("unanswered") == unanswered + 1


@pytest.mark.parametrize(("lng", "label"), [("nl", "alinea"), ("en", "paragraph")])
async def test_a_weak_match_is_hedged_once_before_the_passages(
    make_bot: MakeBot, hedging_engine: Engine, lng: str, label: str
) -> None:
    bot = await make_bot(hedging_engine)
    hedged = counted("hedged")
    (call,) = await bot.send(text_update(QUESTION, language_code=lng))
    shown, bold = read_html(str(call.params["text"]))
    assert shown.startswith(f"{HEDGE[lng]}\n\n{ARTICLE_SOURCE} · {label} 7\nWil Poetin nu Armenië bezoeken")
    assert bold.startswith(ANSWER_SENTENCE) and shown.count(f" · {label} ") == 3
    assert counted("hedged") == hedged + 1
    *_, more = await bot.send(callback_update(more_button(call.params)))
    shown, _ = read_html(str(more.params["text"]))
    assert shown.startswith(f"{ARTICLE_SOURCE} · alinea ")  # the next passages, without the hedge again
    assert not any(line in shown for line in HEDGE.values())


async def test_a_clear_answer_has_no_hedge_and_an_off_topic_question_no_passages(
    make_bot: MakeBot, sure_engine: Engine, hedging_engine: Engine
) -> None:
    sure, hedging = await make_bot(sure_engine), await make_bot(hedging_engine)
    answered, unanswered = counted("answered"), counted("unanswered")
    (reply,) = await sure.replies(text_update(QUESTION, language_code="en"))
    assert read_html(reply)[0].startswith(f"{ARTICLE_SOURCE} · paragraph 7\nWil Poetin")
    assert counted("answered") == answered + 1
    for lng, refusal in (("en", "The article does not say."), ("nl", "Dat staat niet in het artikel.")):
        (call,) = await hedging.send(text_update(OFF_TOPIC, language_code=lng))  # the bar does not matter here
        shown, bold = read_html(str(call.params["text"]))
        assert shown.startswith(refusal) and HEDGE[lng] not in shown
        assert " · " not in shown and bold == "" and "reply_markup" not in call.params
    assert counted("unanswered") == unanswered + 2


async def test_start_and_help_say_what_the_bot_knows_in_the_users_language(article_bot: Bot) -> None:
    (dutch,) = await article_bot.replies(text_update("/start", language_code="nl"))
    (english,) = await article_bot.replies(text_update("/help", language_code="en-US"))
    for reply in (dutch, english):
        shown, _ = read_html(reply)
        assert f"{ARTICLE_TITLE} (2023-10)" in shown and QUESTION in shown
        assert ARTICLE.name not in reply  # the title, not the file
    assert "Bijvoorbeeld" in dutch and "For example" in english and "/reindex" not in english


async def test_ask_works_anywhere_and_quotes_the_question_in_groups(article_bot: Bot) -> None:
    (call,) = await article_bot.send(text_update(f"/ask {QUESTION}", chat_id=GROUP_ID))
    assert ANSWER_SENTENCE in str(call.params["text"])
    assert call.params["chat_id"] == GROUP_ID
    assert call.params["reply_parameters"]["message_id"] > 0
    (reply,) = await article_bot.replies(text_update(f"/ask@article_test_bot {QUESTION}", chat_id=GROUP_ID))
    assert ANSWER_SENTENCE in reply


async def test_groups_hear_only_mentions_and_replies_to_the_bot(article_bot: Bot) -> None:
    assert await article_bot.send(text_update(QUESTION, chat_id=GROUP_ID)) == []
    text = f"@someone_else {QUESTION}"
    assert await article_bot.send(text_update(text, chat_id=GROUP_ID, entities=mention(text, "someone_else"))) == []
    text = f"@article_test_bot {QUESTION}"
    (reply,) = await article_bot.replies(text_update(text, chat_id=GROUP_ID, entities=mention(text)))
    assert ANSWER_SENTENCE in reply
    (reply,) = await article_bot.replies(text_update(QUESTION, chat_id=GROUP_ID, reply_to_bot=True))
    assert ANSWER_SENTENCE in reply
    # Other kinds of group traffic are not the bot's business either.
    assert await article_bot.send(update(message=message(None, chat_id=GROUP_ID, sticker=STICKER))) == []
    assert await article_bot.send(text_update("/weather", chat_id=GROUP_ID)) == []  # maybe another bot's
    assert await article_bot.send(edited_update(QUESTION, chat_id=GROUP_ID)) == []


async def test_the_more_button_follows_up_with_the_next_passages(article_bot: Bot) -> None:
    (first,) = await article_bot.send(text_update(QUESTION))
    calls = await article_bot.send(callback_update(more_button(first.params), message_id=77))
    methods = [c.method for c in calls]
    assert methods == ["answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"]
    assert calls[1].params["message_id"] == 77 and "reply_markup" not in calls[1].params
    shown, _ = read_html(str(calls[2].params["text"]))
    assert "alinea 7" not in shown and shown.count(" · alinea ") == 3


async def test_stale_forged_and_foreign_buttons_get_a_polite_answer(article_bot: Bot) -> None:
    (first,) = await article_bot.send(text_update(QUESTION))
    data = more_button(first.params)
    for pressed in (
        callback_update("more:unknownkey:3"),  # stale, e.g. from before a restart
        callback_update("'; DROP TABLE users; --"),  # forged
        callback_update(data.replace(":3", ":99")),  # forged offset
        callback_update(data, chat_id=9999, user_id=9999),  # copied to another chat
    ):
        (call,) = await article_bot.send(pressed)
        assert call.method == "answerCallbackQuery"
        assert call.params["text"] == "Deze knop is verlopen. Stel je vraag alsjeblieft opnieuw."


async def test_bad_input_gets_a_clear_reply(article_bot: Bot) -> None:
    rejected = counted("rejected")
    (empty,) = await article_bot.replies(text_update("/ask", language_code="en"))
    assert "Put your question after /ask" in empty and "<code>/ask Wat moet" in empty
    (blank,) = await article_bot.replies(text_update("/ask    ", language_code="en"))
    assert "Put your question after /ask" in blank
    for content_free in ("🙂", "...", "\u202e", "/ask \u200b?"):  # no letter or digit: nothing to search for
        (refused,) = await article_bot.replies(text_update(content_free, language_code="en"))
        assert "Put your question after /ask" in refused, content_free
    (long,) = await article_bot.replies(text_update("waarom " * 200, language_code="en"))
    assert "too long (1399 characters; the limit is 1000)" in long
    assert counted("rejected") == rejected + 7
    # 1,000 characters is still a question.
    (fits,) = await article_bot.replies(text_update(QUESTION + " " + "x" * (999 - len(QUESTION))))
    assert "te lang" not in fits


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": STICKER},
        {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}], "caption": QUESTION},
        {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}},
        {"location": {"latitude": 52.1, "longitude": 5.1}},
    ],
    ids=["sticker", "photo", "voice", "location"],
)
async def test_non_text_in_private_is_explained(article_bot: Bot, content: dict[str, Any]) -> None:
    (reply,) = await article_bot.replies(update(message=message(None, language_code="en", **content)))
    assert reply == "I can only read text. Type your question, or send /help to see what I know."


async def test_edited_messages_and_unknown_commands_are_explained(article_bot: Bot) -> None:
    (edited,) = await article_bot.replies(edited_update(QUESTION, language_code="en"))
    assert edited.startswith("I only answer new messages")
    (edited_ask,) = await article_bot.replies(edited_update(f"/ask {QUESTION}"))
    assert edited_ask.startswith("Ik beantwoord alleen nieuwe berichten")
    (unknown,) = await article_bot.replies(text_update("/weather"))
    assert unknown.startswith("Dat commando ken ik niet")
    (addressed,) = await article_bot.replies(text_update("/weather@article_test_bot", chat_id=GROUP_ID))
    assert addressed.startswith("Dat commando ken ik niet")


async def test_a_document_from_a_non_admin_is_refused(article_bot: Bot) -> None:
    before = sorted(p.name for p in article_bot.app.bot_data.engine.config.corpus_dir.iterdir())
    calls = await article_bot.send(document_update("extra.txt", "f1", 10, language_code="en"))
    assert [c.method for c in calls] == ["sendMessage"]  # nothing downloaded
    assert str(calls[0].params["text"]).startswith("Only the bot's admins can add documents")
    assert sorted(p.name for p in article_bot.app.bot_data.engine.config.corpus_dir.iterdir()) == before


async def test_questions_are_throttled_per_user(make_bot: MakeBot, article_engine: Engine) -> None:
    bot = await make_bot(article_engine, throttle_questions=2, throttle_seconds=60)
    for _ in range(2):
        (reply,) = await bot.replies(text_update(QUESTION))
        assert ANSWER_SENTENCE in reply
    (refused,) = await bot.replies(text_update(QUESTION, language_code="en"))
    assert refused.startswith("You are asking quickly. Please wait") and "60 s" in refused
    (other,) = await bot.replies(text_update(QUESTION, user_id=USER_ID + 1))
    assert ANSWER_SENTENCE in other
    (first,) = [c for c in bot.api.calls_to("sendMessage") if "reply_markup" in c.params][:1]
    (pressed,) = await bot.send(callback_update(more_button(first.params)))
    assert pressed.method == "answerCallbackQuery" and "Wacht" in str(pressed.params["text"])


async def test_an_error_is_logged_with_context_and_the_user_told_without_details(
    article_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    errors = metrics.ERRORS._value.get()
    article_bot.api.fail("sendMessage", 400, "Bad Request: can't parse entities: secret internals")
    calls = await article_bot.send(text_update(QUESTION, language_code="en"))
    assert [c.method for c in calls] == ["sendMessage", "sendMessage"]
    assert calls[1].params["text"] == "Sorry, something went wrong on my side. Please try again in a moment."
    assert metrics.ERRORS._value.get() == errors + 1
    (record,) = [r for r in caplog.records if r.name == "bot.chat.handlers" and r.levelno == logging.ERROR]
    tag = reader_tag(USER_ID)  # the chat and the reader, told apart by tag, not named by id
    assert f"chat {tag}, reader {tag})" in record.getMessage() and record.exc_info is not None
    assert str(USER_ID) not in record.getMessage()
    assert TOKEN not in caplog.text
    # The bot keeps working.
    (reply,) = await article_bot.replies(text_update(QUESTION))
    assert ANSWER_SENTENCE in reply


async def test_before_the_engine_is_open_users_are_asked_to_wait(make_bot: MakeBot, article_engine: Engine) -> None:
    bot = await make_bot(article_engine)
    bot.app.bot_data.opened_engine = None
    (reply,) = await bot.replies(text_update(QUESTION, language_code="en"))
    assert reply.startswith("I'm still starting up")


async def test_the_engine_runs_off_the_event_loop(article_bot: Bot) -> None:
    """While a question is encoded, the event loop keeps serving other work."""
    ticks = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    question = "Welke gevolgen heeft de aansluiting van Armenië voor de relatie met Rusland en het Westen? " * 8
    await article_bot.send(text_update(question))
    done.set()
    await ticker
    assert ticks > 10


async def test_a_document_without_blank_lines_is_answered_in_a_few_messages(
    make_bot: MakeBot, make_hashed_engine: Callable[..., Engine]
) -> None:
    """The whole article on one line, five times (14,000 characters): it was one paragraph, and one
    answer took a message for every 4,096 characters of it. The hashing stand-in marks the sentence
    that is asked verbatim."""
    one_line = " ".join(ARTICLE.read_text("utf-8").split()[2:])  # without "date 2023-10" and the line breaks
    engine = make_hashed_engine({"one-line.txt": " ".join([one_line] * 5)}, answer_relevance=-1e9)
    engine.load()
    assert max(len(p.text) for p in engine.index.paragraphs) <= MAX_PARAGRAPH_CHARS
    bot = await make_bot(engine, corpus_dir=engine.config.corpus_dir)
    replies = await bot.replies(text_update(ANSWER_SENTENCE))
    assert 1 <= len(replies) <= 3  # TOP_K passages, one message each at most
    assert any(f"<b>{ANSWER_SENTENCE}</b>" in reply for reply in replies)


async def test_the_error_handler_copes_with_an_update_without_a_chat(
    article_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """Polling hands over what Telegram sends: a message without a chat fails the handler, and
    the error handler logs it without failing in turn."""
    broken = text_update(QUESTION)
    del broken["message"]["chat"]
    assert await article_bot.send(broken) == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["bot.chat.handlers"], [r.getMessage() for r in errors]
    assert "chat -" in errors[0].getMessage()
    (reply,) = await article_bot.replies(text_update(QUESTION))
    assert ANSWER_SENTENCE in reply
