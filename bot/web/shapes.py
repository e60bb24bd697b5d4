"""The shape of an update as the handlers read it, checked before the webhook queues it.

``Update.de_json`` takes whatever types it is given: ``"text": 5`` or a message without a
``chat`` become objects the handlers then fail on, after the webhook has answered 200. Only the
fields the bot reads are checked, and only their types; fields it does not know are left alone,
as Telegram adds new ones. Every string must also be encodable (no lone surrogates), as replies,
logs and the index would fail on it later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _boolean(value: Any) -> bool:
    return isinstance(value, bool)


Kind = tuple[Check, str]  # the check, and what a value that fails it should be
INTEGER: Kind = (_integer, "an integer")
STRING: Kind = (_string, "a string")
BOOLEAN: Kind = (_boolean, "true or false")

# field → its kind; a name ending in "?" may be missing
Shape = dict[str, Kind]

USER: Shape = {"id": INTEGER, "is_bot?": BOOLEAN, "first_name?": STRING, "username?": STRING, "language_code?": STRING}
CHAT: Shape = {"id": INTEGER, "type": STRING, "title?": STRING, "username?": STRING}
ENTITY: Shape = {"type": STRING, "offset": INTEGER, "length": INTEGER}
DOCUMENT: Shape = {"file_id": STRING, "file_unique_id": STRING, "file_name?": STRING, "file_size?": INTEGER}
MESSAGE: Shape = {"message_id": INTEGER, "date": INTEGER, "text?": STRING, "caption?": STRING}
CALLBACK_QUERY: Shape = {"id": STRING, "data?": STRING}
MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")


def _fields(value: Any, shape: Shape, where: str) -> str | None:
    if not isinstance(value, dict):
        return f"{where} must be an object"
    for field, (check, expected) in shape.items():
        name = field.removesuffix("?")
        if name not in value:
            if name == field:
                return f"{where}.{name} is missing"
            continue
        if not check(value[name]):
            return f"{where}.{name} must be {expected}"
    return None


def _sent(value: Any, shape: Shape, where: str) -> str | None:
    """``value``'s own fields, then its sender (``from``), which must be there."""
    problem = _fields(value, shape, where)
    if problem:
        return problem
    if "from" not in value:
        return f"{where}.from is missing"
    return _fields(value["from"], USER, f"{where}.from")


def _message(value: Any, where: str, depth: int = 0) -> str | None:
    problem = _fields(value, MESSAGE, where)
    if problem:
        return problem
    if "chat" not in value:
        return f"{where}.chat is missing"
    problem = _fields(value["chat"], CHAT, f"{where}.chat")
    if problem is None and "from" in value:
        problem = _fields(value["from"], USER, f"{where}.from")
    if problem is None and "document" in value:
        problem = _fields(value["document"], DOCUMENT, f"{where}.document")
    for key in ("entities", "caption_entities"):
        if problem is None and key in value:
            problem = _entities(value[key], f"{where}.{key}")
    if problem is None and "reply_to_message" in value:
        if depth >= 1:  # Telegram nests one level at most
            return f"{where}.reply_to_message is nested too deep"
        problem = _message(value["reply_to_message"], f"{where}.reply_to_message", depth + 1)
    return problem


def _entities(value: Any, where: str) -> str | None:
    if not isinstance(value, list):
        return f"{where} must be a list"
    for number, entity in enumerate(value):
        problem = _fields(entity, ENTITY, f"{where}[{number}]")
        if problem:
            return problem
    return None


def _callback_query(value: Any, where: str) -> str | None:
    problem = _sent(value, CALLBACK_QUERY, where)
    if problem is None and "message" in value:
        problem = _message(value["message"], f"{where}.message")
    return problem


def _inline(value: Any, where: str, identifier: str) -> str | None:
    """An inline query (``identifier`` "id") or a chosen inline result ("result_id"): its sender and text."""
    return _sent(value, {identifier: STRING, "query": STRING}, where)


def shape_problem(data: dict[str, Any]) -> str | None:
    """Why ``data`` is not an update the handlers can read (which field, what it should be), or None."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "a string holds a lone surrogate (not valid UTF-16 text)"
    for kind in MESSAGE_KINDS:
        if kind in data:
            problem = _message(data[kind], kind)
            if problem:
                return problem
    if "callback_query" in data:
        return _callback_query(data["callback_query"], "callback_query")
    if "inline_query" in data:
        return _inline(data["inline_query"], "inline_query", "id")
    if "chosen_inline_result" in data:
        return _inline(data["chosen_inline_result"], "chosen_inline_result", "result_id")
    return None
