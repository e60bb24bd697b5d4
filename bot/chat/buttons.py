"""The buttons under an answer: "More passages" and 👍/👎, their callback data made and parsed.

Callback data comes back from any client, so parsing takes only what the bot itself makes and
returns None for anything else (forged or foreign). What a "More passages" key stands for is
kept in ``bot.core.shared.buttons``; votes are stored by ``bot.chat.feedback``.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.chat.answers import MAX_PASSAGES

VOTES = {"up": 1, "down": -1}
LABELS = {"up": "👍", "down": "👎"}
_VOTE = re.compile(r"vote:(up|down):(\d{1,15}):(\d{1,3})")
_MORE = re.compile(r"more:([A-Za-z0-9_-]{1,16}):(\d{1,3})")
MAX_ID = 2**63 - 1  # what SQLite's INTEGER holds; Telegram's message ids are far below


def more_data(key: str, offset: int) -> str:
    """Callback data of a "more" button."""
    return f"more:{key}:{offset}"


def parse_more(data: str | None) -> tuple[str, int] | None:
    """``(key, offset)`` from a "more" button's data; None for anything else (forged or foreign)."""
    match = _MORE.fullmatch(data or "")
    if match is None or not 0 < int(match.group(2)) < MAX_PASSAGES:
        return None
    return match.group(1), int(match.group(2))


def storable(message_id: int) -> bool:
    """Whether feedback on message ``message_id`` can be stored: a positive id SQLite can hold."""
    return 0 < message_id <= MAX_ID


def vote_buttons(origin: int, page: int) -> list[InlineKeyboardButton]:
    """👍 and 👎 for one page of the answer to the question in message ``origin``."""
    return [InlineKeyboardButton(LABELS[v], callback_data=f"vote:{v}:{origin}:{page}") for v in VOTES]


def parse_vote(data: str | None) -> tuple[int, int, int] | None:
    """``(vote, origin, page)`` from a vote button's data; None for anything else."""
    match = _VOTE.fullmatch(data or "")
    if match is None or not storable(int(match.group(2))):
        return None
    return VOTES[match.group(1)], int(match.group(2)), int(match.group(3))


def votes_only(message: object) -> InlineKeyboardMarkup | None:
    """``message``'s buttons without "more" (the vote buttons stay); None when nothing is left."""
    markup = getattr(message, "reply_markup", None)
    rows = [
        [b for b in row if not str(b.callback_data or "").startswith("more:")]
        for row in (markup.inline_keyboard if isinstance(markup, InlineKeyboardMarkup) else ())
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None
