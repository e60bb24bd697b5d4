"""The admins' /stats: what readers asked and voted in the last days, as Telegram messages."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType

from bot.chat.replies import escape, lang, pack
from bot.chat.state import Context
from bot.core.feedback import FeedbackError
from bot.core.stats.report import build
from bot.core.stats.wording import lines
from bot.core.texts import text

logger = logging.getLogger(__name__)

STATS_DAYS = 7


async def stats_command(update: Update, context: Context) -> None:
    """/stats (admins, in a private chat): questions, outcomes and votes of the last 7 days, what went
    unanswered or voted down. In a group it only says to ask in private: the report quotes readers."""
    message = update.effective_message
    assert message is not None
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_html(text(lang(update), "stats_private"))
        return
    if not context.bot_data.is_admin(update):
        logger.info("refused /stats to a reader who is not an admin")  # no user id in the log
        await message.reply_html(text(lang(update), "not_admin"))
        return
    feedback, encoder = context.bot_data.feedback, context.bot_data.engine.encoder
    try:
        report = await asyncio.to_thread(build, feedback, STATS_DAYS, embed=encoder.queries)
    except FeedbackError as exc:
        logger.warning("no statistics: %s", exc)
        await message.reply_html(text(lang(update), "stats_unavailable"))
        return
    for part in pack([escape(line) for line in lines(report, lang(update))], separator="\n"):
        await message.reply_html(part)
