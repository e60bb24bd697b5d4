"""Follow-ups at the edge: which remembered turn a message continues, and remembering the answer.

In a private chat a message continues the chat's last answer. Anywhere, a message that replies
to one of the bot's answers continues that answer, so in a group a thread of replies keeps its
own context whatever else is said in between; a group message that replies to nothing starts
afresh. The turns themselves live in ``bot.core.shared.conversations``.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Message
from telegram.constants import ChatType

from bot.chat.state import Context
from index.followups import Turn


async def previous_turn(context: Context, message: Message) -> Turn | None:
    """The turn ``message`` continues, or None when it starts afresh."""
    conversations = context.bot_data.conversations
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == context.bot.id:
        return await conversations.recall(conversations.reply_key(message.chat_id, replied.message_id))
    if message.chat.type == ChatType.PRIVATE:
        return await conversations.recall(conversations.chat_key(message.chat_id))
    return None


async def keep_turn(context: Context, message: Message, turn: Turn, sent: Sequence[int]) -> None:
    """Remember ``turn`` for replies to the answer's messages ``sent`` and, in a private chat, for the next message."""
    conversations = context.bot_data.conversations
    keys = [conversations.reply_key(message.chat_id, message_id) for message_id in sent]
    if message.chat.type == ChatType.PRIVATE:
        keys.append(conversations.chat_key(message.chat_id))
    await conversations.keep(keys, conversations.stamp(turn))


async def start_afresh(context: Context, message: Message) -> None:
    """Forget what the chat was talking about (/start, /help)."""
    conversations = context.bot_data.conversations
    await conversations.forget(conversations.chat_key(message.chat_id))
