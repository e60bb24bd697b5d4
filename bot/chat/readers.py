"""Reader feedback at the edge: 👍/👎 buttons, recording what was asked and shown, and the admins' /stats.

Storage failures (see ``bot.feedback``) never stop an answer or a vote's acknowledgement: writes
run in the feedback writer's own thread (``BotState.writes``), a question's record is not waited
for, a vote's for at most ``VOTE_WAIT_SECONDS``, and failures are logged there, rate-limited.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.chat.answers import Reply
from bot.chat.replies import escape, pack
from bot.chat.state import engine, lang, state
from bot.core import stats
from bot.core.feedback import Feedback, FeedbackError, Shown
from bot.core.texts import Language, text
from index import normalize_question

logger = logging.getLogger(__name__)

VOTES = {"up": 1, "down": -1}
LABELS = {"up": "👍", "down": "👎"}
_VOTE = re.compile(r"vote:(up|down):(\d{1,15}):(\d{1,3})")
STATS_DAYS = 7
MAX_ID = 2**63 - 1  # what SQLite's INTEGER holds; Telegram's message ids are far below
VOTE_WAIT_SECONDS = 1.0  # a vote's acknowledgement waits this long at most for the database


def vote_buttons(origin: int, page: int) -> list[InlineKeyboardButton]:
    """👍 and 👎 for one page of the answer to the question in message ``origin``."""
    return [InlineKeyboardButton(LABELS[v], callback_data=f"vote:{v}:{origin}:{page}") for v in VOTES]


def votes_only(message: object) -> InlineKeyboardMarkup | None:
    """``message``'s buttons without "more" (the vote buttons stay); None when nothing is left."""
    markup = getattr(message, "reply_markup", None)
    rows = [
        [b for b in row if not str(b.callback_data or "").startswith("more:")]
        for row in (markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else ())
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def storable(message_id: int) -> bool:
    """Whether feedback on message ``message_id`` can be stored: a positive id SQLite can hold."""
    return 0 < message_id <= MAX_ID


def parse_vote(data: str | None) -> tuple[int, int, int] | None:
    """``(vote, origin, page)`` from a vote button's data; None for anything else."""
    match = _VOTE.fullmatch(data or "")
    if match is None or not storable(int(match.group(2))):
        return None
    return VOTES[match.group(1)], int(match.group(2)), int(match.group(3))


async def open_feedback(feedback: Feedback) -> None:
    """Create the database or delete expired rows at start; a failure is logged, the bot answers anyway."""
    try:
        await asyncio.to_thread(feedback.open)
    except FeedbackError as exc:
        logger.warning("feedback not stored: %s", exc)
        return
    logger.info("feedback database: %s (rows kept %d days)", feedback.path, feedback.days)


async def remember(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, origin: int, question: str, reply: Reply, lng: Language, page: int
) -> None:
    """Record one page of an answer: the question (once), its outcome and the passages shown."""
    if not storable(origin):
        return
    bot_state = state(context)
    shown = [Shown(p.source, p.paragraph, p.sentence) for p in reply.shown]
    normalized = normalize_question(question)
    bot_state.writes.submit(  # not awaited: the handler is done, whatever the database does
        bot_state.feedback.record,
        chat_id,
        origin,
        question=normalized,
        outcome=reply.outcome,
        lang=lng,
        page=page,
        shown=shown,
    )


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A 👍 or 👎 press: throttled per reader, stored once per answer page and reader (a second press
    replaces the first) when the bot recorded that answer in this chat, then acknowledged."""
    query = update.callback_query
    assert query is not None
    lng, parsed, bot_state = lang(update), parse_vote(query.data), state(context)
    chat_id = query.message.chat.id if query.message else None
    if parsed is None or chat_id is None:
        await query.answer(text(lng, "stale_button"), show_alert=True)
        return
    wait = await bot_state.vote_throttle.check(query.from_user.id)
    if wait:
        await query.answer(text(lng, "vote_throttled", seconds=wait))
        return
    value, origin, page = parsed
    write = bot_state.writes.submit(bot_state.feedback.vote, chat_id, origin, page, query.from_user.id, value)
    try:
        outcome = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(write)), VOTE_WAIT_SECONDS)
    except TimeoutError:  # still queued behind a slow database: checked and stored later, or dropped
        outcome = None
    if outcome == "unknown":  # no such answer was shown here: a forged or foreign button
        await query.answer(text(lng, "stale_button"), show_alert=True)
        return
    key = "vote_changed" if outcome == "changed" else "vote_thanks"
    await query.answer(text(lng, key, vote=LABELS["up" if value > 0 else "down"]))


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins, in a private chat): questions, outcomes and votes of the last 7 days, what went
    unanswered or voted down. In a group it only says to ask in private: the report quotes readers."""
    message = update.effective_message
    assert message is not None
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_html(text(lang(update), "stats_private"))
        return
    if not state(context).is_admin(update):
        logger.info("refused /stats to a reader who is not an admin")  # no user id in the log
        await message.reply_html(text(lang(update), "not_admin"))
        return
    feedback, encoder = state(context).feedback, engine(context).encoder
    try:
        report = await asyncio.to_thread(stats.build, feedback, STATS_DAYS, embed=encoder.queries)
    except FeedbackError as exc:
        logger.warning("no statistics: %s", exc)
        await message.reply_html(text(lang(update), "stats_unavailable"))
        return
    for part in pack([escape(line) for line in stats.lines(report, lang(update))], separator="\n"):
        await message.reply_html(part)
