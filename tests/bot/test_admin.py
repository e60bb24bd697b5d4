"""Admin commands through the handlers: rebuilds in the background, uploads, removal, refusals."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.chat.state import BotData
from bot.core import metrics
from bot.core.reindexer import RebuildResult
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, QUESTION, Bot, MakeBot
from tests.conftest import ARTICLE_TITLE
from tests.support.telegram_html import read_html
from tests.support.updates import ADMIN_ID, document_update, text_update

TEXEL = b"date 2024-05\n\nDe vuurtoren van Texel is in 1864 gebouwd en is 35 meter hoog.\n"
TEXEL_QUESTION = "Hoe hoog is de vuurtoren van Texel?"


@pytest.fixture
async def admin_bot(make_bot: MakeBot, own_corpus: Engine) -> Bot:
    """A bot over a private copy of the article, which admin commands may change."""
    return await make_bot(own_corpus, corpus_dir=own_corpus.config.corpus_dir)


def corpus(bot: Bot) -> Path:
    return Path(bot.app.bot_data.settings.corpus_dir)


def engine_of(bot: Bot) -> Engine:
    found = bot.app.bot_data.engine
    assert isinstance(found, Engine)
    return found


async def finished(bot: Bot) -> RebuildResult:
    """Wait for the background rebuild the last command started."""
    state = bot.app.bot_data
    assert isinstance(state, BotData) and state.reindexer.task is not None
    return await state.reindexer.task


async def test_reindex_answers_at_once_and_edits_in_a_summary(admin_bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    version = engine_of(admin_bot).index.version
    ok = metrics.REINDEXES.labels("ok")._value.get()
    # The rebuild is held once it has started, so it is still running while the question below is answered.
    building, release = threading.Event(), threading.Event()
    build = engine_of(admin_bot).build

    def held_build(*args: Any, **kwargs: Any) -> Any:
        building.set()
        release.wait(60)
        return build(*args, **kwargs)

    monkeypatch.setattr(engine_of(admin_bot), "build", held_build)
    (corpus(admin_bot) / "texel.txt").write_bytes(TEXEL)
    (progress,) = await admin_bot.send(text_update("/reindex", user_id=ADMIN_ID, language_code="en"))
    assert str(progress.params["text"]).startswith("Rebuilding the index")
    assert await asyncio.to_thread(building.wait, 60)
    (reply,) = await admin_bot.replies(text_update(QUESTION))
    assert ANSWER_SENTENCE in reply
    assert admin_bot.app.bot_data.reindexer.running  # answered from the old index meanwhile
    assert engine_of(admin_bot).index.version == version
    release.set()
    await finished(admin_bot)
    (summary,) = admin_bot.api.calls_to("editMessageText")
    assert summary.params["message_id"] == progress.result["message_id"]  # the progress message, edited
    assert str(summary.params["text"]).startswith("Index rebuilt: 2 documents, 9 paragraphs in ")
    assert engine_of(admin_bot).index.version != version
    assert metrics.REINDEXES.labels("ok")._value.get() == ok + 1


async def test_a_second_reindex_while_one_runs_is_told_to_wait(admin_bot: Bot) -> None:
    await admin_bot.send(text_update("/reindex", user_id=ADMIN_ID))
    (busy,) = await admin_bot.replies(text_update("/reindex", user_id=ADMIN_ID))
    assert busy == "Er loopt al een herbouw. Wacht alsjeblieft tot die klaar is."
    await finished(admin_bot)
    assert len(admin_bot.api.calls_to("editMessageText")) == 1  # one rebuild, one summary


async def test_a_failed_rebuild_is_reported_and_the_old_index_keeps_serving(admin_bot: Bot) -> None:
    version = engine_of(admin_bot).index.version
    for path in corpus(admin_bot).iterdir():
        path.unlink()
    await admin_bot.send(text_update("/reindex", user_id=ADMIN_ID, language_code="en"))
    await finished(admin_bot)
    (summary,) = admin_bot.api.texts()[1:]
    assert summary.startswith("The rebuild failed: the corpus has no readable documents")
    assert summary.endswith("The previous index keeps serving.")
    assert engine_of(admin_bot).index.version == version
    (reply,) = await admin_bot.replies(text_update(QUESTION))
    assert ANSWER_SENTENCE in reply


async def test_an_index_dir_that_cannot_be_written_is_reported_in_one_line(
    admin_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    index_dir = engine_of(admin_bot).config.index_dir
    index_dir.rename(index_dir.with_name("moved-away"))
    index_dir.write_text("a file where the index folder was", "utf-8")
    await admin_bot.send(text_update("/reindex", user_id=ADMIN_ID, language_code="en"))
    await finished(admin_bot)
    (summary,) = admin_bot.api.texts()[1:]
    assert summary.startswith(f"The rebuild failed: cannot write the index: {index_dir} is not a folder")
    assert not [r for r in caplog.records if r.exc_info]  # one warning line, no traceback
    (reply,) = await admin_bot.replies(text_update(QUESTION))
    assert ANSWER_SENTENCE in reply


async def test_non_admins_are_refused_and_nothing_changes(admin_bot: Bot) -> None:
    version = engine_of(admin_bot).index.version
    before = sorted(p.name for p in corpus(admin_bot).iterdir())
    admin_bot.api.files["f1"] = TEXEL
    for command in ("/reindex", "/remove armenia-icc-2023-10.txt"):
        (reply,) = await admin_bot.replies(text_update(command, language_code="en"))
        assert reply == "Sorry, only the bot's admins can do that. Nothing was changed."
    (reply,) = await admin_bot.replies(document_update("texel.txt", "f1", len(TEXEL)))
    assert reply.startswith("Alleen de beheerders")
    assert sorted(p.name for p in corpus(admin_bot).iterdir()) == before
    assert admin_bot.app.bot_data.reindexer.task is None
    assert engine_of(admin_bot).index.version == version
    assert admin_bot.api.calls_to("getFile") == []


async def test_an_admin_upload_is_saved_indexed_and_then_answered(admin_bot: Bot) -> None:
    admin_bot.api.files["f1"] = TEXEL
    calls = await admin_bot.send(document_update("texel.txt", "f1", len(TEXEL), user_id=ADMIN_ID))
    assert [c.method for c in calls] == ["getFile", "sendMessage"]
    assert str(calls[1].params["text"]).startswith(f"<code>texel.txt</code> opgeslagen ({len(TEXEL)} bytes).\n")
    await finished(admin_bot)
    (summary,) = admin_bot.api.calls_to("editMessageText")
    assert "Index opnieuw opgebouwd: 2 documenten, 9 alinea's" in str(summary.params["text"])
    # Only the new document is embedded; the article's vectors come from the index being served.
    assert "1 document ingebed; van 1 de vectoren hergebruikt." in str(summary.params["text"])
    assert (corpus(admin_bot) / "texel.txt").read_bytes() == TEXEL
    (reply,) = await admin_bot.replies(text_update(TEXEL_QUESTION))
    assert "<b>De vuurtoren van Texel is in 1864 gebouwd en is 35 meter hoog.</b>" in reply
    # The same name again replaces it.
    admin_bot.api.files["f2"] = TEXEL.replace(b"35", b"36")
    (saved,) = await admin_bot.replies(document_update("texel.txt", "f2", None, user_id=ADMIN_ID, language_code="en"))
    assert saved.startswith("Replaced <code>texel.txt</code>")
    await finished(admin_bot)
    (reply,) = await admin_bot.replies(text_update(TEXEL_QUESTION))
    assert "36 meter" in reply


@pytest.mark.parametrize(
    ("name", "content", "size", "reason"),
    [
        ("../../etc/cron.txt", TEXEL, None, "the file name must be letters"),
        ("report.pdf", TEXEL, None, "only .txt, .md and .html documents"),
        ("big.txt", TEXEL, 1_000_001, "larger than the limit of 1000000 bytes"),
        ("big.txt", b"a " * 600_000, None, "larger than the limit of 1000000 bytes"),  # size not announced
        ("latin1.txt", "Armeniƫ café".encode("latin-1", "replace").replace(b"?", b"\xe9"), None, "not UTF-8"),
        ("empty.md", b"\n\n", None, "it has no text"),
    ],
)
async def test_bad_uploads_are_refused_with_the_reason(
    admin_bot: Bot, name: str, content: bytes, size: int | None, reason: str
) -> None:
    before = sorted(p.name for p in corpus(admin_bot).iterdir())
    admin_bot.api.files["bad"] = content
    (reply,) = await admin_bot.replies(document_update(name, "bad", size, user_id=ADMIN_ID, language_code="en"))
    shown, _ = read_html(reply)
    assert shown.startswith("I can't add that file: ") and reason in shown
    assert sorted(p.name for p in corpus(admin_bot).iterdir()) == before
    assert admin_bot.app.bot_data.reindexer.task is None


async def test_remove_takes_a_document_out_and_rebuilds(admin_bot: Bot) -> None:
    admin_bot.api.files["f1"] = TEXEL
    await admin_bot.send(document_update("texel.txt", "f1", len(TEXEL), user_id=ADMIN_ID))
    await finished(admin_bot)
    (usage,) = await admin_bot.replies(text_update("/remove", user_id=ADMIN_ID))
    assert usage.startswith("Gebruik: <code>/remove NAAM</code>")
    (missing,) = await admin_bot.replies(text_update("/remove ../<b>.txt", user_id=ADMIN_ID))
    assert missing == "Er is geen document met de naam <code>../&lt;b&gt;.txt</code>; zie /sources."
    (removed,) = await admin_bot.replies(text_update("/remove texel.txt", user_id=ADMIN_ID))
    assert removed.startswith("<code>texel.txt</code> verwijderd.\n")
    await finished(admin_bot)
    assert not (corpus(admin_bot) / "texel.txt").exists()
    assert [d.name for d in engine_of(admin_bot).sources()] == ["armenia-icc-2023-10.txt"]
    (last,) = await admin_bot.replies(text_update("/remove armenia-icc-2023-10.txt", user_id=ADMIN_ID))
    assert "het enige document" in last


async def test_an_upload_during_a_rebuild_is_saved_and_the_admin_told_to_reindex_later(admin_bot: Bot) -> None:
    await admin_bot.send(text_update("/reindex", user_id=ADMIN_ID, language_code="en"))
    admin_bot.api.files["f1"] = TEXEL
    (reply,) = await admin_bot.replies(document_update("texel.txt", "f1", None, user_id=ADMIN_ID, language_code="en"))
    assert reply.startswith("Saved <code>texel.txt</code>") and "send /reindex when it has finished" in reply
    await finished(admin_bot)
    assert (corpus(admin_bot) / "texel.txt").exists()


async def test_sources_lists_the_documents_by_title_and_admins_also_see_the_file_names(admin_bot: Bot) -> None:
    (reply,) = await admin_bot.replies(text_update("/sources", language_code="en"))
    shown, _ = read_html(reply)
    assert shown == f"Indexed documents:\n{ARTICLE_TITLE} (2023-10), 8 paragraphs"
    (reply,) = await admin_bot.replies(text_update("/sources", user_id=ADMIN_ID, language_code="en"))
    shown, _ = read_html(reply)
    assert shown == f"Indexed documents:\n{ARTICLE_TITLE} (2023-10) - armenia-icc-2023-10.txt, 8 paragraphs"


async def test_admins_see_the_admin_commands_in_help_and_their_menu(admin_bot: Bot) -> None:
    (reply,) = await admin_bot.replies(text_update("/help", user_id=ADMIN_ID, language_code="en"))
    assert "/reindex" in reply and "/remove NAME" in reply
    scoped = [c for c in admin_bot.api.calls_to("setMyCommands") if "scope" in c.params]
    assert [c.params["scope"]["chat_id"] for c in scoped] == [ADMIN_ID]
    assert "reindex" in str(scoped[0].params["commands"])
