"""Admin commands: /reindex, document uploads, /remove, plus /sources for everyone.

Rebuilds run in a worker thread in the background: the admin gets a progress message at once
and a summary when the rebuild ends, while questions keep being answered from the old index.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.chat.replies import escape, lang, sources_messages
from bot.chat.state import Context
from bot.core.articles import Stored, add_file
from bot.core.corpus import Refused, check_upload, remove_document
from bot.core.redact import reader_tag
from bot.core.reindexer import Failure, RebuildResult
from bot.core.texts import Language, text
from index.documents import PAGE_SUFFIXES

logger = logging.getLogger(__name__)


def summary(result: RebuildResult, lng: Language) -> str:
    """What a finished rebuild tells the admin."""
    if isinstance(result, Failure):
        return text(lng, "reindex_failed", reason=escape(result.reason))
    lines = [
        text(
            lng,
            "reindex_done",
            documents=result.documents,
            paragraphs=result.paragraphs,
            seconds=result.seconds,
        ),
        text(lng, "reindex_reuse", embedded=result.embedded, reused=result.reused),
    ]
    lines += [text(lng, "reindex_skipped", name=escape(n), reason=escape(r)) for n, r in result.skipped.items()]
    return "\n".join(lines)


async def refuse_non_admin(update: Update, context: Context, key: str = "not_admin") -> bool:
    """Tell a non-admin politely that nothing changes; True when refused."""
    if context.bot_data.is_admin(update):
        return False
    user = update.effective_user
    logger.info("refused an admin request from reader %s", reader_tag(user.id if user else None))
    if update.effective_message:
        await update.effective_message.reply_html(text(lang(update), key))
    return True


async def rebuild(update: Update, context: Context, *, before: str = "") -> None:
    """Start a background rebuild, answer with progress now and edit in the summary later."""
    message, lng = update.effective_message, lang(update)
    assert message is not None
    progress: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    async def report(result: RebuildResult) -> None:
        sent = await progress
        await sent.edit_text(before + summary(result, lng), parse_mode=ParseMode.HTML)

    application = context.application  # stopping (SIGTERM) cancels the rebuild instead of waiting for it
    started = context.bot_data.reindexer.start(
        context.bot_data.engine, report, spawn=application.create_task, cancelled=lambda: not application.running
    )
    if not started:
        await message.reply_html(before + text(lng, "reindex_later" if before else "reindex_busy"))
        return
    try:
        progress.set_result(await message.reply_html(before + text(lng, "reindex_started")))
    except Exception as exc:
        progress.set_exception(exc)
        raise


async def reindex_command(update: Update, context: Context) -> None:
    """/reindex (admins): rebuild the index from the corpus folder in the background."""
    if not await refuse_non_admin(update, context):
        await rebuild(update, context)


async def upload(update: Update, context: Context) -> None:
    """A document sent in a private chat: admins add or replace a corpus file, then rebuild."""
    if await refuse_non_admin(update, context, "document_not_admin"):
        return
    message, lng, settings = update.effective_message, lang(update), context.bot_data.settings
    assert message is not None and message.document is not None
    document = message.document
    try:
        name = check_upload(document.file_name, document.file_size, settings.max_upload_bytes)
        content = bytes(await (await document.get_file()).download_as_bytearray())
        stored = await asyncio.to_thread(add_file, settings.corpus_dir, name, content, settings.max_upload_bytes)
    except Refused as exc:
        reason = text(lng, exc.reason, **exc.values)
        await message.reply_html(text(lng, "upload_refused", reason=reason))
        return
    if name.lower().endswith(PAGE_SUFFIXES):  # a web page: its article, stored as readable text
        saved = added(stored, lng)
    else:
        key = "upload_replaced" if stored.replaced else "upload_saved"
        saved = text(lng, key, name=escape(name), size=len(content))
    await rebuild(update, context, before=saved + "\n")


def added(stored: Stored, lng: Language) -> str:
    """What an admin is told about an article taken in: its title, date and file name."""
    return text(
        lng,
        "article_replaced" if stored.replaced else "article_added",
        title=escape(stored.title),
        date=f" ({stored.date})" if stored.date else "",
        name=escape(stored.name),
    )


async def remove_command(update: Update, context: Context) -> None:
    """/remove NAME (admins): take a document out of the corpus, then rebuild."""
    if await refuse_non_admin(update, context):
        return
    message, lng = update.effective_message, lang(update)
    assert message is not None
    if len(context.args or []) != 1:
        await message.reply_html(text(lng, "remove_usage"))
        return
    name = (context.args or [""])[0]
    try:
        await asyncio.to_thread(remove_document, context.bot_data.settings.corpus_dir, name)
    except Refused as exc:
        await message.reply_html(text(lng, exc.reason, name=escape(name)))
        return
    await rebuild(update, context, before=text(lng, "removed", name=escape(name)) + "\n")


async def sources_command(update: Update, context: Context) -> None:
    """/sources: the documents the bot answers from."""
    assert update.effective_message is not None
    admin = context.bot_data.is_admin(update)
    for reply in sources_messages(context.bot_data.engine.sources(), lang(update), admin=admin):
        await update.effective_message.reply_html(reply)
