"""Reader feedback at the edge: recording what was asked and shown, and storing 👍/👎 presses.

Storage failures (see ``bot.core.feedback``) never stop an answer or a vote's acknowledgement:
writes run in the feedback writer's own thread (``BotData.writes``), a question's record is not
waited for, a vote's for at most ``VOTE_WAIT_SECONDS``, and failures are logged there, rate-limited.
The buttons' data is made and parsed in ``bot.chat.buttons``.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update

from bot.chat.answers import Reply
from bot.chat.buttons import LABELS, parse_vote, storable
from bot.chat.replies import lang
from bot.chat.state import Context
from bot.core.feedback import Feedback, FeedbackError, Shown
from bot.core.texts import Language, text
from index import normalize_question

logger = logging.getLogger(__name__)

VOTE_WAIT_SECONDS = 1.0  # a vote's acknowledgement waits this long at most for the database


async def open_feedback(feedback: Feedback) -> None:
    """Create the database or delete expired rows at start; a failure is logged, the bot answers anyway."""
    try:
        await asyncio.to_thread(feedback.open)
    except FeedbackError as exc:
        logger.warning("feedback not stored: %s", exc)
        return
    logger.info("feedback database: %s (rows kept %d days)", feedback.path, feedback.days)


async def remember(
    context: Context, chat_id: int, origin: int, question: str, reply: Reply, lng: Language, page: int
) -> None:
    """Record one page of an answer: the question (once), its outcome and the passages shown."""
    if not storable(origin):
        return
    bot_data = context.bot_data
    shown = [Shown(p.source, p.paragraph, p.sentence) for p in reply.shown]
    normalized = normalize_question(question)
    bot_data.writes.submit(  # not awaited: the handler is done, whatever the database does
        bot_data.feedback.record,
        chat_id,
        origin,
        question=normalized,
        outcome=reply.outcome,
        lang=lng,
        page=page,
        shown=shown,
    )


async def vote(update: Update, context: Context) -> None:
    """A 👍 or 👎 press: throttled per reader, stored once per answer page and reader (a second press
    replaces the first) when the bot recorded that answer in this chat, then acknowledged."""
    query = update.callback_query
    assert query is not None
    lng, parsed, bot_data = lang(update), parse_vote(query.data), context.bot_data
    chat_id = query.message.chat.id if query.message else None
    if parsed is None or chat_id is None:
        await query.answer(text(lng, "stale_button"), show_alert=True)
        return
    wait = await bot_data.vote_throttle.check(query.from_user.id)
    if wait:
        await query.answer(text(lng, "vote_throttled", seconds=wait))
        return
    value, origin, page = parsed
    pressed = bot_data.feedback.now()  # the order of presses, not of writes, decides which vote stands
    write = bot_data.writes.submit(bot_data.feedback.vote, chat_id, origin, page, query.from_user.id, value, pressed)
    try:
        outcome = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(write)), VOTE_WAIT_SECONDS)
    except TimeoutError:  # still queued behind a slow database: checked and stored later, or dropped
        outcome = None
    if outcome == "unknown":  # no such answer was shown here: a forged or foreign button
        await query.answer(text(lng, "stale_button"), show_alert=True)
        return
    key = "vote_changed" if outcome == "changed" else "vote_thanks"
    await query.answer(text(lng, key, vote=LABELS["up" if value > 0 else "down"]))
