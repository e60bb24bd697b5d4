"""Articles from the web: an admin's link or ``/add URL`` is fetched and added, then the index
rebuilt; FEEDS are polled in the background while the bot runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from telegram import Update

from bot.chat.admin import added, rebuild, refuse_non_admin, summary
from bot.chat.replies import lang
from bot.chat.state import BotApplication, Context
from bot.core.articles import add_page
from bot.core.corpus import Refused
from bot.core.feeds import poll
from bot.core.fetch import Fetcher
from bot.core.reindexer import RebuildResult
from bot.core.settings import Settings
from bot.core.texts import text

logger = logging.getLogger(__name__)

# A message that is a link and nothing else (whitespace around it aside).
LINK = re.compile(r"\A\s*https?://\S+\s*\Z", re.IGNORECASE)


async def link_message(update: Update, context: Context) -> None:
    """A link on its own from an admin in a private chat: add the article it points to."""
    assert update.effective_message is not None
    await add_url(update, context, (update.effective_message.text or "").strip())


async def add_command(update: Update, context: Context) -> None:
    """/add URL (admins): add the article at URL, then rebuild."""
    if await refuse_non_admin(update, context):
        return
    assert update.effective_message is not None
    if len(context.args or []) != 1:
        await update.effective_message.reply_html(text(lang(update), "add_usage"))
        return
    await add_url(update, context, (context.args or [""])[0])


async def add_url(update: Update, context: Context, url: str) -> None:
    """Fetch ``url``, store its article and start a rebuild; a refusal is told and changes nothing."""
    message, lng, settings = update.effective_message, lang(update), context.bot_data.settings
    assert message is not None
    try:
        page = await Fetcher.from_settings(settings).page(url)
        stored = await asyncio.to_thread(add_page, settings.corpus_dir, page.content, page.url)
    except Refused as exc:
        await message.reply_html(text(lng, "add_refused", reason=text(lng, exc.reason, **exc.values)))
        return
    await rebuild(update, context, before=added(stored, lng) + "\n")


async def poll_feeds(application: BotApplication, settings: Settings) -> None:
    """Poll FEEDS every FEED_MINUTES until cancelled; after a poll that changed the corpus, one rebuild."""
    fetcher, every = Fetcher.from_settings(settings), settings.feed_minutes * 60
    pending = False
    while True:
        try:  # another worker's recent poll counts: the minimum gap is a little under the period
            report = await poll(settings.feeds, settings.corpus_dir, settings.index_dir, fetcher, every=every * 0.9)
            pending = pending or bool(report and report.changed)
        except Exception:
            logger.exception("the feed poll failed")
        if pending:
            pending = not start_rebuild(application)
        await asyncio.sleep(every)


def start_rebuild(application: BotApplication) -> bool:
    """Start a background rebuild for documents the feeds added; False when one is already running."""
    bot_data = application.bot_data
    engine = bot_data.opened_engine
    if engine is None:
        return False

    async def report(result: RebuildResult) -> None:
        logger.info("rebuilt after the feed poll: %s", summary(result, "en"))

    return bot_data.reindexer.start(
        engine, report, spawn=application.create_task, cancelled=lambda: not application.running
    )


def start_feeds(application: BotApplication, settings: Settings) -> None:
    """Start polling FEEDS (when any), from ``post_init``."""
    if settings.feeds:
        logger.info("polling %d feed(s) every %g min", len(settings.feeds), settings.feed_minutes)
        application.bot_data.feed_task = asyncio.create_task(poll_feeds(application, settings))


async def stop_feeds(application: BotApplication) -> None:
    """Cancel the feed poll, from ``post_shutdown``."""
    task, application.bot_data.feed_task = application.bot_data.feed_task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
