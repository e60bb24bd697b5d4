"""Fairness: every reader pays for the replies and encodes they cause, so none can delay another.

Mechanics, not timings: the recording Bot API counts the replies each reader got, a wrapped
encoder the characters encoded; the time figures belong to the benchmarks.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, QUESTION, MakeBot
from tests.support.updates import ADMIN_ID, GROUP_ID, USER_ID, callback_update, mention, text_update

LONG, HELP, JUNK, FOURTH = USER_ID + 1, USER_ID + 2, USER_ID + 3, USER_ID + 4
UNITS, MAX_CHARS = 5, 1000  # THROTTLE_QUESTIONS and MAX_QUESTION_CHARS (200 characters a unit)


def _long_question(number: int) -> str:
    """A question of the longest allowed length, different each time (the engine caches answers)."""
    start = f"{number} {QUESTION} "
    return (start * (MAX_CHARS // len(start) + 1))[: MAX_CHARS - 1] + "?"


@pytest.fixture
def encoded(article_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The questions the engine encodes, in order."""
    seen: list[str] = []
    queries = article_engine.encoder.queries

    def recording(texts: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.extend(texts)
        return queries(texts, *args, **kwargs)

    monkeypatch.setattr(article_engine.encoder, "queries", recording)
    return seen


async def test_floods_of_long_questions_and_commands_do_not_delay_another_reader(
    make_bot: MakeBot, article_engine: Engine, encoded: list[str]
) -> None:
    bot = await make_bot(
        article_engine, corpus_dir=article_engine.config.corpus_dir, throttle_questions=UNITS, throttle_seconds=600
    )
    for number in range(4):  # the longest questions, as fast as the reader can send them
        await bot.send(text_update(_long_question(number), user_id=LONG))
    for _ in range(100):  # /help, unknown commands and /start with junk: each reply spends the bot's budget
        for command in ("/help", "/weather", "/start x-not-a-link-%%"):
            await bot.send(text_update(command, user_id=HELP if command == "/help" else JUNK))
    (answer,) = await bot.replies(text_update(QUESTION, user_id=FOURTH))
    assert ANSWER_SENTENCE in answer
    replies = Counter(int(str(c.params["chat_id"])) for c in bot.api.calls_to("sendMessage"))
    # The longest question fills its reader's window: one answered, then one "please wait".
    assert replies[LONG] == 2 and sum(len(q) for q in encoded if q != QUESTION) <= MAX_CHARS
    # A flood gets its window's replies and one "please wait", then silence.
    assert replies[HELP] == UNITS + 1 and replies[JUNK] <= UNITS + 1
    (told,) = [c for c in bot.api.calls_to("sendMessage") if c.params["chat_id"] == HELP][-1:]
    assert "Wacht 600 s" in str(told.params["text"])


async def test_only_what_the_bot_answers_is_charged_and_admins_are_not(
    make_bot: MakeBot, article_engine: Engine
) -> None:
    bot = await make_bot(
        article_engine, corpus_dir=article_engine.config.corpus_dir, throttle_questions=2, throttle_seconds=600
    )
    for _ in range(5):  # group chatter, another bot's command, votes: not the bot's reply to give
        assert await bot.send(text_update("Koffie, iemand?", chat_id=GROUP_ID)) == []
        assert await bot.send(text_update("/weather", chat_id=GROUP_ID)) == []
        await bot.send(callback_update("vote:up:1:0"))
    asked = f"@article_test_bot {QUESTION}"
    (reply,) = await bot.replies(text_update(asked, chat_id=GROUP_ID, entities=mention(asked)))
    assert ANSWER_SENTENCE in reply
    assert len(await bot.replies(text_update("/help@article_test_bot", chat_id=GROUP_ID))) == 1
    (told,) = await bot.replies(text_update("/help", chat_id=GROUP_ID))  # the window is full
    assert "Wacht" in told
    (pressed,) = await bot.send(callback_update("more:unknownkey:3"))  # a press still gets its alert
    assert pressed.method == "answerCallbackQuery" and "Wacht" in str(pressed.params["text"])
    for _ in range(5):
        assert len(await bot.replies(text_update("/help", user_id=ADMIN_ID))) == 1
