"""Conversation handlers: parse the update, call the engine in a thread, format, reply."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from bot.chat import context as conversation
from bot.chat import fairness, feedback
from bot.chat.answers import Reply, compose
from bot.chat.buttons import more_data, parse_more, storable, vote_buttons, votes_only
from bot.chat.groups import addressed_question
from bot.chat.replies import NO_PREVIEW, escape, help_message, lang, question_problem
from bot.chat.state import Context, NotReady
from bot.core import metrics
from bot.core.deeplinks import resolve
from bot.core.redact import reader_tag
from bot.core.texts import Language, text
from index import QuestionError, check_question, normalize_question
from index.followups import Turn

logger = logging.getLogger(__name__)


async def help_command(update: Update, context: Context) -> None:
    """/start and /help: what the bot knows, how to ask, example questions."""
    assert update.effective_message is not None
    bot_data = context.bot_data
    await conversation.start_afresh(context, update.effective_message)
    reply = help_message(
        bot_data.engine.sources(),
        bot_data.settings.example_questions,
        lang(update),
        admin=bot_data.is_admin(update),
    )
    await update.effective_message.reply_html(reply)


async def start_command(update: Update, context: Context) -> None:
    """/start: the help, or the question a deep link's payload holds, answered at once."""
    if not context.args:
        await help_command(update, context)
        return
    message, lng = update.effective_message, lang(update)
    assert message is not None
    await conversation.start_afresh(context, message)
    opened = resolve(" ".join(context.args), context.bot_data.settings.prepared_questions)
    if opened.question is None:
        values = {key: escape(str(value)) for key, value in opened.values.items()}
        await message.reply_html(text(lng, opened.problem or "link_unknown", **values))
        return
    await message.reply_html(text(lng, "link_question", question=escape(opened.question)))
    await answer(update, context, opened.question)


async def ask_command(update: Update, context: Context) -> None:
    """/ask QUESTION, in any chat."""
    await answer(update, context, " ".join(context.args or []))


async def private_text(update: Update, context: Context) -> None:
    """Any text in a private chat is a question."""
    assert update.effective_message is not None
    await answer(update, context, update.effective_message.text or "")


async def group_text(update: Update, context: Context) -> None:
    """Text in a group: a question only when it mentions the bot or replies to it; otherwise silence."""
    assert update.effective_message is not None
    question = addressed_question(update.effective_message, context.bot.id, context.bot.username)
    if question is not None:
        await answer(update, context, question)


async def answer(update: Update, context: Context, question: str) -> None:
    """Throttle, check, search off the event loop and reply with the best passages."""
    message, lng = update.effective_message, lang(update)
    assert message is not None
    bot_data = context.bot_data
    problem = _problem(question, bot_data.settings.max_question_chars, lng, bot_data.settings.example_questions)
    wait = 0 if problem else await fairness.charge_question(update, context, question)
    if problem or wait:
        metrics.QUESTIONS.labels("rejected").inc()
        await message.reply_html(problem or text(lng, "throttled", seconds=wait))
        return
    try:
        reply = await _compose(context, question, lng, previous=await conversation.previous_turn(context, message))
    except QuestionError as exc:  # the engine's own limit, when it is below MAX_QUESTION_CHARS
        metrics.QUESTIONS.labels("rejected").inc()
        await message.reply_html(question_problem(exc, lng, bot_data.settings.example_questions))
        return
    metrics.count_question(reply.outcome)
    # Recorded first (queued, not awaited), so a vote on the answer always finds its record.
    await feedback.remember(context, message.chat_id, message.message_id, question, reply, lng, page=0)
    sent = await _send(context, message.chat_id, reply, question, lng, reply_to=message, origin=message.message_id)
    if reply.turn is not None:
        await conversation.keep_turn(context, message, reply.turn, sent)


async def more_passages(update: Update, context: Context) -> None:
    """The "more passages" button: the next passages for the same question, as a follow-up."""
    query = update.callback_query
    assert query is not None
    lng, bot_data = lang(update), context.bot_data
    chat_id = query.message.chat.id if query.message else None
    parsed = parse_more(query.data)
    found = await bot_data.more_buttons.recall(parsed[0], chat_id) if parsed and chat_id is not None else None
    if parsed is None or found is None or chat_id is None:
        await query.answer(text(lng, "stale_button"), show_alert=True)
        return
    question, origin = found.question, found.origin
    wait = await fairness.charge_question(update, context, question)
    if wait:
        metrics.QUESTIONS.labels("rejected").inc()
        await query.answer(text(lng, "throttled", seconds=wait), show_alert=True)
        return
    await query.answer()  # at once: the client stops its spinner while the engine works
    reply = await _compose(context, question, lng, offset=parsed[1])
    metrics.count_question(reply.outcome)
    try:  # the old button has done its job (its votes stay); a failure here (message too old) changes nothing
        await query.edit_message_reply_markup(reply_markup=votes_only(query.message))
    except TelegramError as exc:
        logger.debug("could not remove the old button: %s", exc)
    if origin:  # recorded first, as in ``answer``
        await feedback.remember(context, chat_id, origin, question, reply, lng, page=parsed[1])
    await _send(context, chat_id, reply, question, lng, origin=origin, page=parsed[1])


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice and the like in a private chat: explain that only text is read."""
    assert update.effective_message is not None
    await update.effective_message.reply_html(text(lang(update), "not_text"))


async def edited(update: Update, context: Context) -> None:
    """An edited message in a private chat: ask for a new message instead of answering twice."""
    assert update.effective_message is not None
    if update.effective_message.chat.type == ChatType.PRIVATE:
        await update.effective_message.reply_html(text(lang(update), "edited"))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not know; in groups only when it is addressed to this bot."""
    message = update.effective_message
    assert message is not None
    command = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    to_us = command.lower().endswith(f"@{(context.bot.username or '').lower()}")
    if message.chat.type == ChatType.PRIVATE or to_us:
        await message.reply_html(text(lang(update), "unknown_command"))


async def on_error(update: object, context: Context) -> None:
    """Log any error with where it happened, and tell the user something went wrong (no details).

    It must not fail itself, whatever the update holds: it runs when something already did.
    """
    metrics.ERRORS.inc()
    where = ""
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        # Tags, not ids: a log line tells readers apart without naming them (``reader_tag``).
        chat_tag, user_tag = reader_tag(chat.id if chat else None), reader_tag(user.id if user else None)
        where = f" (update {update.update_id}, chat {chat_tag}, reader {user_tag})"
    logger.error("error while handling an update%s", where, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_message is None or update.effective_chat is None:
        return
    key = "not_ready" if isinstance(context.error, NotReady) else "error"
    try:
        await update.effective_message.reply_html(text(lang(update), key))
    except Exception:  # a failed apology is logged, never raised again
        logger.warning("could not tell the user about the error", exc_info=True)


def _problem(question: str, limit: int, lng: Language, examples: Sequence[str]) -> str | None:
    """Why the engine's check refuses ``question`` (no letter or digit, too long), in the user's
    language; else None."""
    try:
        check_question(question, limit)
    except QuestionError as exc:
        return question_problem(exc, lng, examples)
    return None


async def _compose(
    context: Context, question: str, lng: Language, offset: int = 0, previous: Turn | None = None
) -> Reply:
    """Search and format in a worker thread, so a slow encode never stalls other chats; ``previous``
    is what the chat was just talking about (see ``bot.chat.context``)."""
    settings = context.bot_data.settings
    return await asyncio.to_thread(
        compose,
        context.bot_data.engine,
        question,
        lang=lng,
        per_page=settings.top_k,
        offset=offset,
        examples=settings.example_questions,
        previous=previous,
    )


async def _send(
    context: Context,
    chat_id: int,
    reply: Reply,
    question: str,
    lng: Language,
    reply_to: Message | None = None,
    origin: int = 0,
    page: int = 0,
) -> list[int]:
    """Send the reply's messages (their ids); the last one carries a "more" button when more passages exist, and
    👍/👎 buttons when it shows passages of the question asked in message ``origin``."""
    buttons = []
    if reply.next_offset is not None:
        key = await context.bot_data.more_buttons.remember(chat_id, normalize_question(question), origin)
        buttons.append(InlineKeyboardButton(text(lng, "more_button"), callback_data=more_data(key, reply.next_offset)))
    if reply.shown and storable(origin):  # no buttons whose vote could not be stored
        buttons += vote_buttons(origin, page)
    markup = InlineKeyboardMarkup([buttons]) if buttons else None
    quote = None  # in groups the answer quotes the question, so it is clear whom it answers
    if reply_to is not None and reply_to.chat.type != ChatType.PRIVATE:
        quote = ReplyParameters(message_id=reply_to.message_id, allow_sending_without_reply=True)
    sent = []
    for number, body in enumerate(reply.messages, start=1):
        last = number == len(reply.messages)
        found = await context.bot.send_message(
            chat_id,
            body,
            parse_mode=ParseMode.HTML,
            reply_markup=markup if last else None,
            reply_parameters=quote if number == 1 else None,
            link_preview_options=NO_PREVIEW,
        )
        sent.append(found.message_id)
    return sent
