"""The long-lived objects handlers share: the application's typed ``bot_data`` and the ``Context`` they get.

python-telegram-bot makes ``bot_data`` from the type given as ``ContextTypes(bot_data=...)``
(``build_application``), so a handler reads ``context.bot_data.settings``,
``context.bot_data.engine`` and so on, typed, instead of looking keys up in a dict.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.core.feedback import Feedback, Writer
from bot.core.reindexer import Reindexer
from bot.core.settings import Settings
from bot.core.shared.buttons import Buttons, FileButtons, RedisButtons
from bot.core.shared.conversations import Conversations, RedisConversations, salt_for
from bot.core.shared.link import RedisLink
from bot.core.shared.throttle import RedisThrottle, Throttle
from index import Engine

# How long a feedback write waits for a database another process holds locked. Only the writer
# thread waits (see ``bot.core.feedback.Writer``), never an answer: long enough for the workers
# of a host writing at once in a burst, short enough that a database held locked drops writes
# instead of queueing them for minutes.
FEEDBACK_BUSY_SECONDS = 2.0
# 👍/👎 presses per reader: plenty for someone reading answers, little for a script forging them.
VOTES_PER_WINDOW = 20
VOTE_WINDOW_SECONDS = 60.0


class NotReady(RuntimeError):
    """The engine has not been opened yet (``post_init`` has not run or is still running)."""


class BotData:
    """Settings, the engine and the per-process helpers created with the application: ``context.bot_data``."""

    def __init__(self, settings: Settings, redis: RedisLink | None = None, engine: Engine | None = None) -> None:
        token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None

        def throttle(limit: int, seconds: float, name: str) -> Throttle:
            return RedisThrottle(redis, limit, seconds, name) if redis else Throttle(limit, seconds)

        self.settings = settings
        # The Redis of REDIS_URL, which the throttles, the rate limiter and the webhook's update ids share.
        self.redis = redis
        self.throttle = throttle(settings.throttle_questions, settings.throttle_seconds, "throttle")
        self.inline_throttle = throttle(settings.inline_throttle_queries, settings.inline_throttle_seconds, "inline")
        self.vote_throttle = throttle(VOTES_PER_WINDOW, VOTE_WINDOW_SECONDS, "votes")
        self.feedback = Feedback(
            settings.feedback_path, days=settings.feedback_days, busy_seconds=FEEDBACK_BUSY_SECONDS
        )
        # Feedback writes run here, never in the threads that search (see ``bot.chat.feedback``).
        self.writes = Writer()
        # What each "More passages" button asks for (see ``bot.core.shared.buttons``).
        hours = settings.more_button_hours
        self.more_buttons: Buttons = (
            RedisButtons(redis, salt_for(token), hours)
            if redis
            else FileButtons(settings.buttons_path, salt_for(token), hours)
        )
        # What each chat was just talking about, for follow-up questions.
        minutes = settings.followup_minutes
        self.conversations: Conversations = (
            RedisConversations(redis, salt_for(token), minutes) if redis else Conversations(salt_for(token), minutes)
        )
        self.reindexer = Reindexer()
        # The engine once ``post_init`` has opened it (or as given, in tests), else None.
        self.opened_engine = engine
        # The background poll of FEEDS, while it runs.
        self.feed_task: asyncio.Task[None] | None = None

    @property
    def engine(self) -> Engine:
        """The engine; NotReady before ``post_init`` has opened it."""
        if self.opened_engine is None:
            raise NotReady("the engine is not open yet")
        return self.opened_engine

    def is_admin(self, update: Update) -> bool:
        """Whether the sender is listed in ADMIN_USER_IDS."""
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_user_ids


def bot_data_type(settings: Settings, redis: RedisLink | None = None, engine: Engine | None = None) -> type[BotData]:
    """``BotData`` for ``settings`` as a type made without arguments, which is what ``ContextTypes(bot_data=...)``
    takes: python-telegram-bot makes ``bot_data`` by calling it with none."""

    class Configured(BotData):
        def __init__(self) -> None:
            super().__init__(settings, redis, engine)

    return Configured


# What every handler gets as ``context``, and the application that passes it.
Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
BotApplication = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, Any]
