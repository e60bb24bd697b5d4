"""Every reader pays for what they make the bot do, so that no reader can slow another down.

Each update a reader sends that the bot would answer in a chat (a question, a command, an
unknown command, /start with any payload, a "More passages" press, a sticker in a private chat)
costs one unit of the reader's window (``BotData.throttle``, THROTTLE_QUESTIONS units per
THROTTLE_SECONDS) before any handler runs: the reply it spends from the bot's shared ~30
messages a second (``bot.chat.ratelimit``). A question costs more when it is long (``charge_question``):
one unit per THROTTLE_QUESTION_CHARS characters begun, as encoding it takes that much longer.

Past the window an update is dropped before any handler: a message gets one "please wait N s"
reply until the wait is over, then silence; a button press gets its alert, which is no chat
message. Votes and inline queries keep throttles of their own; admins are not throttled here.
"""

from __future__ import annotations

import math

from telegram import CallbackQuery, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, CommandHandler

from bot.chat.groups import addressed_question
from bot.chat.replies import lang
from bot.chat.state import Context
from bot.core import metrics
from bot.core.texts import text


async def gate(update: Update, context: Context) -> None:
    """Charge an update that gets a reply one unit; past the reader's window drop it (told once)."""
    user = update.effective_user
    if user is None or not _answered(update, context) or context.bot_data.is_admin(update):
        return
    throttle = context.bot_data.throttle
    wait = await throttle.check(user.id)
    if not wait:
        return
    metrics.THROTTLED.inc()
    query, message = update.callback_query, update.effective_message
    if isinstance(query, CallbackQuery):  # an alert on the reader's screen, not a chat message
        await query.answer(text(lang(update), "throttled", seconds=wait), show_alert=True)
    elif message is not None and await throttle.tell(user.id, wait):
        await message.reply_html(text(lang(update), "throttled", seconds=wait))
    raise ApplicationHandlerStop


async def charge_question(update: Update, context: Context, question: str) -> int:
    """The rest of a question's cost (``gate`` took one unit): 0 when it may be searched, else the seconds to wait."""
    bot_data = context.bot_data
    user = update.effective_user
    if user is None or bot_data.is_admin(update):
        return 0
    settings = bot_data.settings
    cost = question_cost(question, settings.throttle_question_chars, settings.throttle_questions)
    return await bot_data.throttle.check(user.id, cost - 1)


def question_cost(question: str, question_chars: int, limit: int) -> int:
    """Units a question costs: one per ``question_chars`` characters begun, at least 1, at most the
    whole window (``limit``), so the longest question a reader may ask is still answered."""
    return min(limit, max(1, math.ceil(len(question) / question_chars)))


def _answered(update: Update, context: Context) -> bool:
    """Whether the handlers answer ``update`` in a chat: votes and inline queries are throttled apart."""
    if update.callback_query is not None:
        return not (update.callback_query.data or "").startswith("vote:")
    message = update.message or update.edited_message
    if message is None or getattr(message, "chat", None) is None:  # malformed: the handlers report it
        return False
    if message.chat.type == ChatType.PRIVATE:
        return True
    if update.edited_message is not None:  # edits in groups are left alone
        return False
    command = _command(message)
    if command is not None:
        name, _, to = command.partition("@")
        if to:
            return to.lower() == (context.bot.username or "").lower()
        return name.lower() in _commands(context)  # a bare unknown command may be another bot's
    return message.text is not None and addressed_question(message, context.bot.id, context.bot.username) is not None


def _command(message: Message) -> str | None:
    """The command a message starts with (``help`` or ``help@bot``), else None."""
    entities = message.entities or ()
    if not entities or entities[0].type != MessageEntity.BOT_COMMAND or entities[0].offset != 0:
        return None
    return (message.text or "")[1 : entities[0].length]


def _commands(context: Context) -> set[str]:
    """The commands the application's handlers know."""
    return {
        name
        for handlers in context.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
