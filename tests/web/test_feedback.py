"""Reader feedback over real HTTP: 👍/👎 on answers, /stats for admins, and storage that fails quietly."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from bot.core.feedback import Feedback
from index import Engine
from tests.bot.conftest import OFF_TOPIC, QUESTION
from tests.support.botapi import BotApiStub, Call
from tests.support.updates import GROUP_ID as GROUP
from tests.support.updates import callback_update, message, message_update
from tests.web.conftest import RunningServer, StartServer

READER = 730_000_001  # long ids, so finding one in the database file cannot be a coincidence
OTHER_READER = 730_000_002
ADMIN = 42  # web_settings' admin
NAMES = ("Marijke", "van Oranje-Nassau", "marijke_reads")


def from_reader(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A message whose sender has a first name, last name and username the database must not keep."""
    update = message_update(update_id, chat_id, text)
    first, last, username = NAMES
    update["message"]["from"].update(first_name=first, last_name=last, username=username)
    update["message"]["chat"].update(first_name=first, last_name=last, username=username)
    return update


async def answer_to(server: RunningServer, update: dict[str, Any]) -> Call:
    """POST ``update`` and wait for the bot's (last) message in its chat."""
    chat_id = update["message"]["chat"]["id"]
    before = len([c for c in server.api.calls_to("sendMessage") if c.params["chat_id"] == chat_id])
    assert (await server.post_update(update)).status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = [c for c in server.api.calls_to("sendMessage") if c.params["chat_id"] == chat_id]
        if len(sent) > before:
            return sent[-1]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no answer in chat {chat_id}")


async def acknowledged(server: RunningServer, update: dict[str, Any]) -> str:
    """POST a button press and return the text of its answerCallbackQuery."""
    before = len(server.api.calls_to("answerCallbackQuery"))
    assert (await server.post_update(update)).status_code == 200
    calls = await server.api.async_wait_for("answerCallbackQuery", before + 1)
    return str(calls[before].params.get("text", ""))


async def rows(feedback: Feedback, sql: str, expected: int) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` once there are ``expected`` (a row is written just after its answer is sent)."""
    deadline = time.monotonic() + 10
    while len(found := await asyncio.to_thread(feedback.rows, sql)) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return found


def buttons(call: Call) -> dict[str, str]:
    """The answer's buttons: label → callback data."""
    return {b["text"]: b["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"] for b in row}


async def test_both_votes_are_acknowledged_and_a_second_press_changes_the_vote(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    answer = await answer_to(server, from_reader(1, READER, QUESTION))
    found = buttons(answer)
    assert list(found) == ["Meer passages ▸", "👍", "👎"]
    press = {label: callback_update(found[label], chat_id=READER, user_id=READER) for label in ("👍", "👎")}
    assert await acknowledged(server, press["👍"]) == "Dank je: 👍 genoteerd."
    again = callback_update(found["👍"], chat_id=READER, user_id=READER)
    assert await acknowledged(server, again) == "Dank je: 👍 genoteerd."  # still one vote
    assert await acknowledged(server, press["👎"]) == "Je stem is veranderd in 👎."
    feedback = Feedback(server.settings.feedback_path)
    assert await rows(feedback, "SELECT page, vote FROM votes", 1) == [(0, -1)]

    # "More passages": the next page has votes of its own, and the first page keeps its votes.
    more = callback_update(found["Meer passages ▸"], chat_id=READER, user_id=READER, message_id=5)
    more["callback_query"]["message"]["reply_markup"] = answer.params["reply_markup"]
    await server.post_update(more)
    (kept,) = await server.api.async_wait_for("editMessageReplyMarkup")
    assert [b["text"] for b in kept.params["reply_markup"]["inline_keyboard"][0]] == ["👍", "👎"]
    (*_, second) = await server.api.async_wait_for("sendMessage", 2)
    up = callback_update(buttons(second)["👍"], chat_id=READER, user_id=READER)
    assert await acknowledged(server, up) == "Dank je: 👍 genoteerd."
    assert sorted(await rows(feedback, "SELECT page, vote FROM votes", 2)) == [(0, -1), (3, 1)]
    shown = await rows(feedback, "SELECT page, rank, source, paragraph FROM shown ORDER BY rank", 6)
    assert [r[:2] for r in shown] == [(0, 0), (0, 1), (0, 2), (3, 3), (3, 4), (3, 5)]
    assert shown[0][2:] == ("armenia-icc-2023-10.txt", 7)

    forged = callback_update("vote:up:abc:0", chat_id=READER, user_id=READER)
    assert await acknowledged(server, forged) == "Deze knop is verlopen. Stel je vraag alsjeblieft opnieuw."


async def test_stats_for_an_admin_and_a_polite_refusal_for_anyone_else(
    start_server: StartServer, article_engine: Engine
) -> None:
    server = await start_server(article_engine)
    answer = await answer_to(server, from_reader(1, READER, QUESTION))
    await answer_to(server, from_reader(2, READER, OFF_TOPIC))
    await answer_to(server, from_reader(3, OTHER_READER, f"  {OFF_TOPIC.lower().rstrip('?')} ?? "))
    await answer_to(server, from_reader(4, OTHER_READER, "How long do I have to knead dough for bread?"))
    await answer_to(server, from_reader(5, OTHER_READER, "How long should I bake bread?"))  # another question
    down = callback_update(buttons(answer)["👎"], chat_id=READER, user_id=READER)
    await acknowledged(server, down)
    await rows(Feedback(server.settings.feedback_path), "SELECT * FROM questions", 5)

    # Update ids apart from callback_update's counter, which a test run alone brings to 7 here.
    refused = await answer_to(server, from_reader(900_006, READER, "/stats"))
    assert refused.params["text"] == "Sorry, alleen de beheerders van de bot kunnen dat. Er is niets veranderd."
    report = str((await answer_to(server, message_update(900_007, ADMIN, "/stats", language_code="en"))).params["text"])
    assert "5 questions from 2 chats" in report and "refused 80%" in report
    assert "votes: 👍 0 · 👎 1" in report
    assert f"1. {OFF_TOPIC} - asked 3x in 2 chats, refused" in report  # rewordings grouped, by text and meaning
    assert "2. How long should I bake bread? - asked 1x in 1 chat, refused" in report
    assert "- armenia-icc-2023-10.txt, paragraph 7: 👎 1 · 👍 0" in report
    dutch = str((await answer_to(server, message_update(900_008, ADMIN, "/stats"))).params["text"])  # a Dutch client
    assert "5 vragen uit 2 chats" in dutch and "geweigerd 80%" in dutch and "stemmen: 👍 0 · 👎 1" in dutch
    assert f"1. {OFF_TOPIC} - 3x gevraagd in 2 chats, geweigerd" in dutch


async def test_the_database_never_holds_a_user_id_or_name(
    start_server: StartServer, article_engine: Engine, tmp_path: Path
) -> None:
    server = await start_server(article_engine, feedback_db=tmp_path / "feedback" / "readers.db")
    answer = await answer_to(server, from_reader(1, READER, QUESTION))
    await acknowledged(server, callback_update(buttons(answer)["👍"], chat_id=READER, user_id=READER))
    feedback = Feedback(server.settings.feedback_path)
    assert await rows(feedback, "SELECT * FROM votes", 1) and await rows(feedback, "SELECT * FROM questions", 1)
    files = [p for p in (tmp_path / "feedback").iterdir() if not p.name.endswith(".salt")]  # with -wal, -shm
    data = b"".join(p.read_bytes() for p in files)
    assert QUESTION.encode() in data  # the grep below looks in the right place
    for secret in (str(READER), *NAMES):
        assert secret.encode() not in data, f"{secret} is in the feedback database"


async def test_a_redelivered_question_is_one_row_even_when_both_workers_answer_it(
    start_server: StartServer, article_engine: Engine, tmp_path: Path
) -> None:
    shared = tmp_path / "feedback.sqlite3"
    a = await start_server(article_engine, feedback_db=shared)  # each with its own record of update ids
    b = await start_server(article_engine, feedback_db=shared)
    update = from_reader(7, READER, QUESTION)
    await answer_to(a, update)
    await answer_to(b, update)
    await asyncio.sleep(0.5)
    assert Feedback(shared).count("questions") == 1


async def test_failing_storage_never_stops_an_answer(
    start_server: StartServer, article_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    caplog.set_level(logging.INFO)
    server = await start_server(article_engine, feedback_db=blocker / "feedback.sqlite3")
    answer = await answer_to(server, from_reader(1, READER, QUESTION))
    assert "Wil Poetin nu Armenië bezoeken" in str(answer.params["text"])
    assert (
        await acknowledged(server, callback_update(buttons(answer)["👍"], chat_id=READER)) == "Dank je: 👍 genoteerd."
    )
    report = str((await answer_to(server, message_update(2, ADMIN, "/stats"))).params["text"])
    assert report == "De feedbackdatabase is nu niet leesbaar; zie het log van de bot."
    failures = [r for r in caplog.records if r.name in ("bot.chat.feedback", "bot.chat.stats", "bot.core.feedback")]
    assert len(failures) == 3  # at start, the first write (the question; the vote is within its minute), /stats
    assert all(r.exc_info is None and "not-a-folder" in r.getMessage() for r in failures)
    assert "error while handling" not in caplog.text


async def test_the_salt_never_reaches_the_log(
    start_server: StartServer, article_engine: Engine, botapi: BotApiStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await start_server(article_engine)
    await answer_to(server, from_reader(1, READER, QUESTION))
    await rows(Feedback(server.settings.feedback_path), "SELECT * FROM questions", 1)
    salt = Path(f"{server.settings.feedback_path}.salt").read_text().strip()
    assert caplog.records and "feedback database" in caplog.text
    assert salt not in caplog.text


async def test_a_locked_database_never_holds_up_an_answer(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine)
    answer = await answer_to(server, from_reader(1, READER, QUESTION))
    await rows(Feedback(server.settings.feedback_path), "SELECT * FROM questions", 1)
    caplog.set_level(logging.INFO)
    holder = sqlite3.connect(server.settings.feedback_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the database
    try:
        presses = [
            callback_update(buttons(answer)["👎"], chat_id=READER, user_id=READER + n, message_id=n) for n in range(40)
        ]
        questions = [from_reader(100 + n, OTHER_READER + n, QUESTION) for n in range(10)]
        posted = await asyncio.gather(*(server.post_update(u) for u in presses + questions))
        assert all(r.status_code == 200 for r in posted)
        await asyncio.sleep(0.5)  # the writes are waiting for the lock by now
        started = time.monotonic()
        late = await answer_to(server, from_reader(200, READER, QUESTION))
        assert time.monotonic() - started < 1.0
        assert "Wil Poetin nu Armenië bezoeken" in str(late.params["text"])
        await server.api.async_wait_for("answerCallbackQuery", 40)  # every press was acknowledged
        deadline = time.monotonic() + 15  # held past the writer's busy timeout: the writes fail, not wait
        while not [r for r in caplog.records if "feedback not stored" in r.getMessage()]:
            assert time.monotonic() < deadline, "no write gave up on the locked database"
            await asyncio.sleep(0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    lost = [r for r in caplog.records if "feedback not stored" in r.getMessage()]
    assert len(lost) == 1, [r.getMessage() for r in lost]  # one warning, not one per write
    assert "locked" in lost[0].getMessage() and "error while handling" not in caplog.text


async def test_forged_votes_are_refused_and_never_counted(start_server: StartServer, article_engine: Engine) -> None:
    server = await start_server(article_engine)
    answer = await answer_to(server, from_reader(1, READER, QUESTION))
    up = callback_update(buttons(answer)["👍"], chat_id=READER, user_id=READER)
    assert await acknowledged(server, up) == "Dank je: 👍 genoteerd."
    feedback = Feedback(server.settings.feedback_path)
    origin = int(buttons(answer)["👍"].split(":")[2])
    forged = [  # other messages, other pages of the real one, the real one in another chat
        callback_update(f"vote:down:{origin + 1 + n}:{n % 7}", chat_id=READER, user_id=READER + n % 100)
        for n in range(900)
    ] + [callback_update(f"vote:down:{origin}:{n}", chat_id=READER, user_id=READER + n) for n in range(1, 51)]
    forged += [callback_update(f"vote:down:{origin}:0", chat_id=-100777, user_id=READER + n) for n in range(50)]
    for start in range(0, len(forged), 100):
        posted = await asyncio.gather(*(server.post_update(u) for u in forged[start : start + 100]))
        assert all(r.status_code == 200 for r in posted)
    calls = await server.api.async_wait_for("answerCallbackQuery", 1 + len(forged))
    assert {c.params["text"] for c in calls[1:]} == {"Deze knop is verlopen. Stel je vraag alsjeblieft opnieuw."}
    assert await asyncio.to_thread(feedback.rows, "SELECT page, vote FROM votes") == [(0, 1)]

    with sqlite3.connect(feedback.path) as db:  # a forged vote stored before votes were checked
        db.execute("INSERT INTO votes VALUES ('c', 99, 0, 'v', ?, -1)", (time.time(),))
    report = str((await answer_to(server, message_update(2, ADMIN, "/stats", language_code="en"))).params["text"])
    assert "votes: 👍 1 · 👎 0" in report

    quick = [callback_update(buttons(answer)["👎"], chat_id=READER, user_id=READER + 1000) for _ in range(25)]
    texts = [await acknowledged(server, press) for press in quick]  # one reader pressing fast is throttled
    assert texts[0] == "Dank je: 👎 genoteerd." and texts[1:20] == ["Dank je: 👎 genoteerd."] * 19
    assert all(t.startswith("Je stemt snel. Wacht alsjeblieft") for t in texts[20:])


async def test_stats_is_only_shown_in_a_private_chat_and_refusals_log_no_user_id(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine)
    await answer_to(server, from_reader(1, READER, OFF_TOPIC))
    await rows(Feedback(server.settings.feedback_path), "SELECT * FROM questions", 1)
    caplog.set_level(logging.INFO)
    group = {"update_id": 2, "message": message("/stats", user_id=ADMIN, chat_id=GROUP, language_code="en")}
    reply = str((await answer_to(server, group)).params["text"])
    assert reply == "Please ask for /stats in a private chat with me: the report holds readers' questions."
    assert OFF_TOPIC not in str([c.params for c in server.api.calls_to("sendMessage")][-1])
    refused = await answer_to(server, from_reader(3, READER, "/stats"))
    assert refused.params["text"] == "Sorry, alleen de beheerders van de bot kunnen dat. Er is niets veranderd."
    assert "refused" in caplog.text and str(READER) not in caplog.text


async def test_a_message_id_sqlite_cannot_hold_is_answered_without_buttons_or_an_error(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(article_engine)
    caplog.set_level(logging.INFO)
    update = from_reader(1, READER, QUESTION)
    update["message"]["message_id"] = 2**70
    answer = await answer_to(server, update)
    assert "Wil Poetin nu Armenië bezoeken" in str(answer.params["text"])
    assert "vote:" not in str(answer.params.get("reply_markup"))  # a vote on it could not be stored
    press = callback_update(f"vote:down:{2**70}:0", chat_id=READER, user_id=READER)
    assert await acknowledged(server, press) == "Deze knop is verlopen. Stel je vraag alsjeblieft opnieuw."
    await asyncio.sleep(0.3)
    assert len([c for c in server.api.calls_to("sendMessage") if c.params["chat_id"] == READER]) == 1
    assert "error while handling" not in caplog.text and "out of range" not in caplog.text
