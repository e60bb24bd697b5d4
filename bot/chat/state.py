"""The long-lived objects handlers share, kept in ``application.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat.answers import Followups
from bot.chat.throttle import Throttle
from bot.core.feedback import Feedback
from bot.core.reindexer import Reindexer
from bot.core.settings import Settings
from bot.core.texts import Language, language
from index import Engine

ENGINE = "engine"
STATE = "state"


class NotReady(RuntimeError):
    """The engine has not been opened yet (``post_init`` has not run or is still running)."""


@dataclass
class BotState:
    """Settings and the per-process helpers created with the application."""

    settings: Settings
    throttle: Throttle
    feedback: Feedback
    followups: Followups = field(default_factory=Followups)
    reindexer: Reindexer = field(default_factory=Reindexer)

    @classmethod
    def create(cls, settings: Settings) -> BotState:
        return cls(
            settings=settings,
            throttle=Throttle(settings.throttle_questions, settings.throttle_seconds),
            feedback=Feedback(settings.feedback_path, days=settings.feedback_days),
        )

    def is_admin(self, update: Update) -> bool:
        """Whether the sender is listed in ADMIN_USER_IDS."""
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_user_ids


def state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    """The application's BotState."""
    found = context.bot_data[STATE]
    assert isinstance(found, BotState)
    return found


def engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    """The application's engine; NotReady before ``post_init`` has opened it."""
    found = context.bot_data.get(ENGINE)
    if not isinstance(found, Engine):
        raise NotReady("the engine is not open yet")
    return found


def lang(update: Update) -> Language:
    """The language to answer ``update`` in."""
    return language(update.effective_user)
