"""Follow-up questions: the grammar that spots them, the chat's memory, and the bot, console and CLI using it."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from bot.chat.state import BotData
from bot.cli import ask
from bot.console import chat
from bot.core.shared.conversations import Conversations, salt_for
from index import Engine
from index.followups import MAX_FOLLOWUPS, Turn, ask_in_context, needs_context, understand
from tests.bot.conftest import QUESTION, Bot, MakeBot
from tests.support.botapi import BOT_USER
from tests.support.redis_server import RedisServer, running_redis
from tests.support.updates import GROUP_ID, USER_ID, mention, message, text_update, update
from tests.support.updates import chat as chat_of

FOLLOWUP = "en waarom?"
OTHER = "Hoe reageert het Kremlin op de aansluiting bij het Strafhof?"
MEANT = f"{QUESTION.rstrip('?')} — {FOLLOWUP}"


@pytest.mark.parametrize(
    "question",
    ["en waarom?", "waarom?", "hoeveel?", "wanneer?", "how many?", "why?", "wie zei dat?", "and the West?",
     "wat vond hij ervan?", "what did they do there?", "maar wie betaalt?", "Wat betekent dat?"],
)  # fmt: skip
def test_a_message_that_leans_on_the_previous_one_needs_context(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    "question",
    [QUESTION, OTHER, "Wie is de president van Frankrijk?", "How many people live in Amsterdam today?", "Armenië", ""],
)
def test_a_full_question_is_taken_alone(question: str) -> None:
    assert not needs_context(question)


def test_a_follow_up_means_the_previous_question_and_itself_for_a_few_turns_only() -> None:
    first = Turn(QUESTION, QUESTION)
    understood = understand(FOLLOWUP, first)
    assert understood.uses_context and understood.meaning == f"{QUESTION} {FOLLOWUP}"
    assert understood.shown_as == MEANT
    assert not understand(OTHER, first).uses_context  # a new subject starts afresh
    assert not understand(FOLLOWUP, None).uses_context
    worn = Turn(FOLLOWUP, "x", followups=MAX_FOLLOWUPS)
    assert not understand(FOLLOWUP, worn).uses_context
    assert Turn.from_json(json.loads(json.dumps(first.to_json()))) == first


def test_a_question_without_context_is_answered_exactly_as_engine_ask(article_engine: Engine) -> None:
    for question in (QUESTION, OTHER, FOLLOWUP, "What is the weather in Paris tomorrow?"):
        for k in (None, 1, 4):
            answer, turn = ask_in_context(article_engine, question, None, k)
            alone = article_engine.ask(question, k)
            assert answer == alone and answer.to_json() == alone.to_json()
            assert answer.relevance == alone.relevance and turn.followups == 0


def test_memory_forgets_after_the_minutes_and_keys_hold_no_id() -> None:
    now = [1000.0]
    memory = Conversations(salt_for("123:secret"), minutes=10, clock=lambda: now[0])
    key = memory.chat_key(USER_ID)
    assert str(USER_ID) not in key and key != Conversations(salt_for("456:other"), 10).chat_key(USER_ID)
    memory._store([key], memory.stamp(Turn(QUESTION, QUESTION)))
    now[0] += 599
    assert memory._local(key) is not None
    now[0] += 2
    assert memory._local(key) is None


# -- the bot ---------------------------------------------------------------------------------


def _state(bot: Bot) -> BotData:
    found = bot.app.bot_data
    assert isinstance(found, BotData)
    return found


async def _ask(bot: Bot, text: str, **kwargs: Any) -> tuple[list[str], list[int]]:
    """The texts the bot sent for ``text`` and the ids of those messages."""
    calls = [c for c in await bot.send(text_update(text, **kwargs)) if c.method == "sendMessage"]
    return [str(c.params["text"]) for c in calls], [int(c.result["message_id"]) for c in calls]


async def test_a_private_follow_up_is_answered_in_context_with_the_line_in_dutch(article_bot: Bot) -> None:
    texts, _ = await _ask(article_bot, QUESTION)
    assert "Over:" not in texts[0]
    texts, _ = await _ask(article_bot, FOLLOWUP)
    assert texts[0].startswith(f"<i>Over: {MEANT}</i>")
    texts, _ = await _ask(article_bot, OTHER)  # a full question: alone again
    assert "Over:" not in texts[0]


async def test_the_context_line_is_in_english_for_an_english_reader(article_bot: Bot) -> None:
    await _ask(article_bot, QUESTION, language_code="en")
    texts, _ = await _ask(article_bot, FOLLOWUP, language_code="en")
    assert texts[0].startswith(f"<i>About: {MEANT}</i>")


async def test_help_and_a_long_pause_start_afresh(article_bot: Bot) -> None:
    now = [1_000_000.0]
    _state(article_bot).conversations.clock = lambda: now[0]
    await _ask(article_bot, QUESTION)
    await article_bot.send(text_update("/help"))
    texts, _ = await _ask(article_bot, FOLLOWUP)
    assert "Over:" not in texts[0]
    await _ask(article_bot, QUESTION)
    now[0] += 9 * 60
    texts, _ = await _ask(article_bot, FOLLOWUP)
    assert texts[0].startswith("<i>Over:")
    now[0] += 10 * 60 + 1  # past FOLLOWUP_MINUTES since the last answer
    texts, _ = await _ask(article_bot, "en hoe?")
    assert "Over:" not in texts[0]


def _reply_to(text: str, message_id: int, user_id: int) -> dict[str, Any]:
    answered = {"message_id": message_id, "date": 0, "chat": chat_of(GROUP_ID), "from": BOT_USER, "text": "answer"}
    return update(message=message(text, user_id=user_id, chat_id=GROUP_ID, reply_to_message=answered))


async def test_in_a_group_a_reply_to_the_answer_continues_it_whatever_came_between(article_bot: Bot) -> None:
    handle = f"@{BOT_USER['username']}"
    asked = f"{handle} {QUESTION}"
    _, first = await _ask(article_bot, asked, chat_id=GROUP_ID, entities=mention(asked))
    await article_bot.send(text_update("Koffie, iemand?", user_id=99, chat_id=GROUP_ID))  # not for the bot
    other = f"{handle} {OTHER}"
    _, second = await _ask(article_bot, other, user_id=98, chat_id=GROUP_ID, entities=mention(other))
    texts = await article_bot.replies(_reply_to(FOLLOWUP, first[-1], USER_ID))
    assert texts[0].startswith(f"<i>Over: {MEANT}</i>")
    texts = await article_bot.replies(_reply_to(FOLLOWUP, second[-1], 98))
    assert texts[0].startswith(f"<i>Over: {OTHER.rstrip('?')} — {FOLLOWUP}</i>")
    # In a group a message that replies to nothing starts afresh.
    follow = f"{handle} {FOLLOWUP}"
    texts, _ = await _ask(article_bot, follow, chat_id=GROUP_ID, entities=mention(follow))
    assert "Over:" not in texts[0]


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path_factory)


async def test_two_workers_behind_one_redis_share_the_context(
    make_bot: MakeBot, article_engine: Engine, redis_server: RedisServer
) -> None:
    """Two applications in this process (the workers' code, without their processes and model
    loads), one redis-server on loopback: the follow-up reaches the other one."""
    settings = {"corpus_dir": article_engine.config.corpus_dir, "redis_url": redis_server.url}
    one = await make_bot(article_engine, **settings)
    two = await make_bot(article_engine, **settings)
    await _ask(one, QUESTION)
    texts, _ = await _ask(two, FOLLOWUP)
    assert texts[0].startswith(f"<i>Over: {MEANT}</i>")
    client = Redis.from_url(redis_server.url)
    try:
        keys = client.keys("*followup*")
        assert keys and all(client.ttl(key) > 0 for key in keys)  # they expire
        assert all(str(USER_ID).encode() not in key for key in keys)  # keyed hashes, the same every run
        for key in keys:  # a turn: what was asked and answered, no id and no name
            stored = json.loads(client.get(key) or b"{}")
            assert set(stored) == {"question", "meaning", "passages", "followups", "at"}
            assert b"User" not in json.dumps(stored).encode() and USER_ID not in (stored["followups"], stored["at"])
    finally:
        client.close()


# -- the console and the command line -------------------------------------------------------------


def test_the_console_chat_answers_a_follow_up_in_context(sure_engine: Engine) -> None:
    typed, shown = io.StringIO(f"{QUESTION}\n{FOLLOWUP}\nquit\n"), io.StringIO()
    chat(sure_engine, stdin=typed, stdout=shown, lang="nl")
    assert shown.getvalue().count("Over:") == 1 and f"Over: {MEANT}\n" in shown.getvalue()


def test_ask_dialog_reads_one_chat_and_plain_ask_does_not(
    sure_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for dialog in (True, False):
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{QUESTION}\n{FOLLOWUP}\n"))
        assert ask(sure_engine, "-", as_json=True, k=None, dialog=dialog) == 0
        first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
        assert "taken_as" not in first
        if dialog:
            assert second["taken_as"] == MEANT and second["question"] == f"{QUESTION} {FOLLOWUP}"
        else:
            assert "taken_as" not in second and second["question"] == FOLLOWUP


def test_a_short_question_that_names_its_subject_is_taken_alone() -> None:
    """Dutch "er" and demonstratives beside a name are not a pointer back; a pronoun still is."""
    assert not needs_context("Wat gebeurde er met Nagorno-Karabach?")
    assert not needs_context("Zijn er nog vluchtelingen in Goris?")
    assert needs_context("Hoeveel zijn er gevlucht?")
    assert needs_context("Wat zei Poetin daarover?")
    assert needs_context("What did Moscow say about them?")
