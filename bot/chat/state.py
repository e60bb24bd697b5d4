"""The long-lived objects handlers share, kept in ``application.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat.throttle import RedisThrottle, Throttle
from bot.core.buttons import Buttons, FileButtons, SharedButtons
from bot.core.conversations import Conversations, SharedConversations, salt_for
from bot.core.feedback import Feedback, Writer
from bot.core.reindexer import Reindexer
from bot.core.settings import Settings
from bot.core.shared import RedisLink
from bot.core.texts import Language, language
from index import Engine

ENGINE = "engine"
STATE = "state"
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


@dataclass
class BotState:
    """Settings and the per-process helpers created with the application."""

    settings: Settings
    throttle: Throttle
    inline_throttle: Throttle
    feedback: Feedback
    vote_throttle: Throttle
    # Feedback writes run here, never in the threads that search (see ``bot.chat.readers``).
    writes: Writer = field(default_factory=Writer)
    # What each "More passages" button asks for (see ``bot.core.buttons``).
    followups: Buttons = field(default_factory=Buttons)
    # What each chat was just talking about, for follow-up questions.
    conversations: Conversations = field(default_factory=lambda: Conversations(salt_for(None)))
    reindexer: Reindexer = field(default_factory=Reindexer)
    # The Redis of REDIS_URL, which the throttles, the rate limiter and the webhook's update ids share.
    shared: RedisLink | None = None

    @classmethod
    def create(cls, settings: Settings, shared: RedisLink | None = None) -> BotState:
        def throttle(limit: int, seconds: float, name: str) -> Throttle:
            return RedisThrottle(shared, limit, seconds, name) if shared else Throttle(limit, seconds)

        token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
        minutes = settings.followup_minutes
        conversations = (
            SharedConversations(shared, salt_for(token), minutes) if shared else Conversations(salt_for(token), minutes)
        )
        hours = settings.more_button_hours
        buttons = (
            SharedButtons(shared, salt_for(token), hours)
            if shared
            else FileButtons(settings.buttons_path, salt_for(token), hours)
        )
        return cls(
            settings=settings,
            followups=buttons,
            conversations=conversations,
            throttle=throttle(settings.throttle_questions, settings.throttle_seconds, "throttle"),
            inline_throttle=throttle(settings.inline_throttle_queries, settings.inline_throttle_seconds, "inline"),
            vote_throttle=throttle(VOTES_PER_WINDOW, VOTE_WINDOW_SECONDS, "votes"),
            feedback=Feedback(settings.feedback_path, days=settings.feedback_days, busy_seconds=FEEDBACK_BUSY_SECONDS),
            shared=shared,
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
