"""Small factories for Telegram updates as the Bot API sends them (JSON dicts).

The same dicts feed the stub Bot API (``BotApiStub.push_update``) and, through
``Update.de_json``, handler tests, so both see exactly what Telegram would deliver.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from telegram import Bot, Update

from tests.support.botapi import BOT_USER

# Fresh update, message and query ids, above every id a test picks by hand (at most 900_008): in a
# worker that runs many test files the count grows, and a fresh id equal to a chosen one was taken
# for a redelivery.
_ids = itertools.count(10_000_001)
USER_ID = 4242
ADMIN_ID = 777
GROUP_ID = -100555


def user(user_id: int = USER_ID, language_code: str | None = "nl") -> dict[str, Any]:
    """A human sender."""
    found: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
    if language_code:
        found["language_code"] = language_code
    return found


def chat(chat_id: int) -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
    return {"id": chat_id, "type": "supergroup", "title": "Readers"}


def _commands(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def message(
    text: str | None = None,
    *,
    user_id: int = USER_ID,
    chat_id: int | None = None,
    language_code: str | None = "nl",
    entities: list[dict[str, Any]] | None = None,
    reply_to_bot: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A new message; ``text`` starting with ``/`` gets its bot_command entity; ``extra`` adds fields."""
    found: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": chat(user_id if chat_id is None else chat_id),
        "from": user(user_id, language_code),
    }
    if text is not None:
        found["text"] = text
        all_entities = _commands(text) + (entities or [])
        if all_entities:
            found["entities"] = all_entities
    if reply_to_bot:
        found["reply_to_message"] = {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": found["chat"],
            "from": BOT_USER,
            "text": "an earlier answer",
        }
    found.update(extra)
    return found


def mention(text: str, username: str = str(BOT_USER["username"])) -> list[dict[str, Any]]:
    """The mention entity for ``@username`` inside ``text``."""
    handle = f"@{username}"
    offset = len(text[: text.index(handle)].encode("utf-16-le")) // 2
    return [{"type": "mention", "offset": offset, "length": len(handle)}]


def update(**fields: Any) -> dict[str, Any]:
    """An update holding ``fields`` (e.g. ``message=...``), with a fresh update_id."""
    return {"update_id": next(_ids), **fields}


def text_update(text: str, **kwargs: Any) -> dict[str, Any]:
    """An update with a new text message."""
    return update(message=message(text, **kwargs))


def message_update(update_id: int, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """An update ``update_id`` with a new text message in ``chat_id`` (a private chat for positive ids)."""
    sender = chat_id if chat_id > 0 else USER_ID
    return {"update_id": update_id, "message": message(text, user_id=sender, chat_id=chat_id, **kwargs)}


def edited_update(text: str, **kwargs: Any) -> dict[str, Any]:
    """An update with an edited message."""
    edited = message(text, **kwargs)
    edited["edit_date"] = edited["date"] + 5
    return update(edited_message=edited)


def document_update(file_name: str, file_id: str, size: int | None, **kwargs: Any) -> dict[str, Any]:
    """An update with a document (``size`` None: Telegram did not say)."""
    document: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id, "file_name": file_name}
    if size is not None:
        document["file_size"] = size
    return update(message=message(None, document=document, **kwargs))


def callback_update(
    data: str, *, chat_id: int = USER_ID, user_id: int = USER_ID, message_id: int = 1
) -> dict[str, Any]:
    """An update with a button press on one of the bot's messages."""
    on = {"message_id": message_id, "date": int(time.time()), "chat": chat(chat_id), "from": BOT_USER, "text": "answer"}
    query = {"id": str(next(_ids)), "from": user(user_id), "chat_instance": "ci", "data": data, "message": on}
    return update(callback_query=query)


def inline_update(query: str, *, user_id: int = USER_ID, language_code: str | None = "nl") -> dict[str, Any]:
    """An update with an inline query: ``@bot query`` typed in any chat."""
    inline = {"id": str(next(_ids)), "from": user(user_id, language_code), "query": query, "offset": ""}
    return update(inline_query=inline)


def chosen_update(result_id: str, query: str, *, user_id: int = USER_ID) -> dict[str, Any]:
    """An update saying the user sent inline result ``result_id`` (with inline feedback on)."""
    return update(chosen_inline_result={"result_id": result_id, "from": user(user_id), "query": query})


def parse(data: dict[str, Any], bot: Bot) -> Update:
    """A real ``Update`` from its JSON, bound to ``bot``."""
    found = Update.de_json(data, bot)
    assert found is not None
    return found
