"""In groups the bot speaks only when spoken to: a mention of it, or a reply to one of its messages."""

from __future__ import annotations

from telegram import Message, MessageEntity


def addressed_question(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a group message meant for the bot (its mention removed), or None if not meant for it."""
    text = message.text or ""
    mentions = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    ours = [
        (entity, value)
        for entity, value in mentions.items()
        if (entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id)
        or (bot_username and entity.type == MessageEntity.MENTION and value.lower() == f"@{bot_username.lower()}")
    ]
    replied = message.reply_to_message
    to_bot = replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
    if not ours and not to_bot:
        return None
    for _, value in ours:
        text = text.replace(value, " ")
    return " ".join(text.split()).strip(" ,:")
