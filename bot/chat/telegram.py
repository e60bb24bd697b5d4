"""Wiring: the python-telegram-bot application with its handlers, rate limiter and start-up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.chat import admin, articles, fairness, feedback, handlers, inline, stats
from bot.chat.ratelimit import RedisRateLimiter
from bot.chat.state import BotApplication, bot_data_type
from bot.core.redact import protect, reader_tag
from bot.core.settings import Settings, SettingsError
from bot.core.shared.link import RedisLink
from bot.core.texts import Language
from index import Engine, EngineError

logger = logging.getLogger(__name__)

# Command menus shown by Telegram clients, per language; admins also see ADMIN_COMMANDS.
COMMANDS: dict[Language, list[tuple[str, str]]] = {
    "en": [
        ("ask", "Ask a question about the article"),
        ("sources", "The documents I answer from"),
        ("help", "What I know and how to ask"),
    ],
    "nl": [
        ("ask", "Stel een vraag over het artikel"),
        ("sources", "De documenten waaruit ik antwoord"),
        ("help", "Wat ik weet en hoe je iets vraagt"),
    ],
}
ADMIN_COMMANDS: list[tuple[str, str]] = [
    ("reindex", "Rebuild the index from the corpus"),
    ("add", "Add a news article: /add URL"),
    ("remove", "Remove a document: /remove NAME"),
    ("stats", "What readers asked in the last 7 days"),
]
# The update types the handlers use; Telegram is asked for these only (polling and webhook).
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.CHOSEN_INLINE_RESULT,
)
RETRIES_AFTER_FLOOD = 3  # a 429 from Telegram is waited out and retried this many times


class UpdatesRequest(HTTPXRequest):
    """The long-polling connection, which notices when Telegram rejects the token mid-run.

    python-telegram-bot stops polling on a 401 from ``getUpdates`` but keeps the process alive
    doing nothing, so a supervisor never restarts it; ``on_rejected`` stops the application instead,
    and ``rejected`` tells why it stopped.
    """

    def __init__(self) -> None:
        super().__init__()  # what the builder makes for getUpdates by default
        self.rejected = False
        self.on_rejected: Callable[[], None] | None = None

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, payload = await super().do_request(*args, **kwargs)
        if status == HTTPStatus.UNAUTHORIZED and not self.rejected and self.on_rejected is not None:
            self.rejected = True
            self.on_rejected()
            # Held until the stopping application cancels it: answered, the 401 would end the
            # polling task with an error that aborts the shutdown half-way.
            await asyncio.Event().wait()
        return status, payload


class _NoTokenTraceback(logging.Filter):
    """Drop python-telegram-bot's record and traceback for a rejected token, and for a Bot API it
    cannot reach while starting (``started`` still False): ``run_polling`` says either in one line.
    A network error once polling runs is the library's to log and retry."""

    def __init__(self) -> None:
        super().__init__()
        self.started = False

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (isinstance(error, InvalidToken) or (isinstance(error, NetworkError) and not self.started))


def file_url(settings: Settings) -> str:
    """Where files are downloaded: TELEGRAM_API_FILE_URL, or ``.../bot`` → ``.../file/bot`` of the API URL."""
    if settings.telegram_api_file_url:
        return settings.telegram_api_file_url
    base = settings.telegram_api_base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def _register(application: BotApplication) -> None:
    """All handlers, in the order they are tried: the first that matches an update handles it."""
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE
    # Before every other handler (group -1): each reader pays for the replies and encodes they cause.
    application.add_handler(TypeHandler(Update, fairness.gate), group=-1)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, handlers.edited))
    application.add_handler(CommandHandler("start", handlers.start_command, filters=new))
    application.add_handler(CommandHandler("help", handlers.help_command, filters=new))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new))
    application.add_handler(CommandHandler("sources", admin.sources_command, filters=new))
    application.add_handler(CommandHandler("reindex", admin.reindex_command, filters=new))
    application.add_handler(CommandHandler("remove", admin.remove_command, filters=new))
    application.add_handler(CommandHandler("add", articles.add_command, filters=new))
    application.add_handler(CommandHandler("stats", stats.stats_command, filters=new))
    application.add_handler(MessageHandler(new & filters.COMMAND, handlers.unknown_command))
    # An admin's message that is just a link adds the article; anyone else's is a question as usual.
    admins = filters.User(user_id=application.bot_data.settings.admin_user_ids)
    link = filters.Regex(articles.LINK)
    application.add_handler(MessageHandler(new & private & filters.TEXT & admins & link, articles.link_message))
    application.add_handler(MessageHandler(new & private & filters.TEXT, handlers.private_text))
    application.add_handler(MessageHandler(new & filters.ChatType.GROUPS & filters.TEXT, handlers.group_text))
    application.add_handler(MessageHandler(new & private & filters.Document.ALL, admin.upload))
    application.add_handler(MessageHandler(new & private & ~filters.StatusUpdate.ALL, handlers.not_text))
    application.add_handler(CallbackQueryHandler(feedback.vote, pattern=r"^vote:"))
    application.add_handler(CallbackQueryHandler(handlers.more_passages))
    application.add_handler(InlineQueryHandler(inline.inline_query))
    application.add_handler(ChosenInlineResultHandler(inline.chosen_result))
    application.add_error_handler(handlers.on_error)


async def set_commands(application: BotApplication, settings: Settings) -> None:
    """Publish the command menus; a failure is logged, as the bot works without them."""
    bot = application.bot
    try:
        await bot.set_my_commands([BotCommand(*c) for c in COMMANDS["en"]])
        await bot.set_my_commands([BotCommand(*c) for c in COMMANDS["nl"]], language_code="nl")
    except TelegramError as exc:
        logger.warning("could not set the command menu: %s", exc)
    for admin_id in sorted(settings.admin_user_ids):
        try:  # fails until the admin has opened a chat with the bot; harmless
            commands = [BotCommand(*c) for c in COMMANDS["en"] + ADMIN_COMMANDS]
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(admin_id))
        except TelegramError as exc:
            logger.info("no admin command menu for admin %s yet: %s", reader_tag(admin_id), exc)


def build_application(
    settings: Settings,
    *,
    engine: Engine | None = None,
    polling: bool = True,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
) -> BotApplication:
    """The application, ready to run; its ``post_init`` opens the engine (unless given) and sets the menus.

    ``polling=False`` builds it without an updater, for a webhook server that feeds updates
    itself; such a server calls ``await application.post_init(application)`` after
    ``initialize()``. ``request`` replaces the HTTP client (tests record requests with it);
    ``updates_request`` the one for ``getUpdates`` alone.
    """
    if settings.telegram_bot_token is None:
        raise SettingsError("setting TELEGRAM_BOT_TOKEN: not set")
    token = settings.telegram_bot_token.get_secret_value()
    protect(token)  # before the Bot logs its URLs
    redis = RedisLink.for_bot(settings.redis_url.get_secret_value(), token) if settings.redis_url else None

    async def post_init(application: BotApplication) -> None:
        if redis is not None and await redis.ping():
            logger.info("sharing update ids, the question throttle and the reply budget through %s", redis.where)
        if application.bot_data.opened_engine is None:
            logger.info("opening the engine")
            application.bot_data.opened_engine = await asyncio.to_thread(Engine.open, settings.engine_config())
        await set_commands(application, settings)
        await feedback.open_feedback(application.bot_data.feedback)
        articles.start_feeds(application, settings)

    async def post_shutdown(application: BotApplication) -> None:
        await articles.stop_feeds(application)
        if redis is not None:
            await redis.aclose()

    builder = (
        Application.builder()
        .context_types(ContextTypes(bot_data=bot_data_type(settings, redis, engine)))
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(file_url(settings))
        .rate_limiter(
            RedisRateLimiter(redis, max_retries=RETRIES_AFTER_FLOOD)
            if redis is not None
            else AIORateLimiter(max_retries=RETRIES_AFTER_FLOOD)
        )
        .concurrent_updates(True)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    elif updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    _register(application)
    return application


def run_polling(settings: Settings) -> int:
    """Serve with long polling until interrupted; 0 on a clean stop, 1 when the bot cannot start
    or Telegram rejects the token while it runs (revoked), so that a supervisor restarts it."""
    updates = UpdatesRequest()
    application = build_application(settings, updates_request=updates)
    updates.on_rejected = application.stop_running
    quiet = _NoTokenTraceback()
    for name in ("telegram.ext", "telegram.ext.Updater"):  # the polling loop and its clean-up
        logging.getLogger(name).addFilter(quiet)
    started = application.post_init

    async def post_init(app: BotApplication) -> None:
        quiet.started = True  # the Bot API answered getMe: later network errors are retried and logged
        if started is not None:
            await started(app)

    application.post_init = post_init
    logger.info("starting long polling against %s", settings.telegram_api_base_url)
    try:
        application.run_polling(allowed_updates=list(ALLOWED_UPDATES))
    except InvalidToken:
        logger.error("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
        return 1
    except EngineError as exc:
        logger.error("cannot start: %s", exc)
        return 1
    except NetworkError as exc:
        logger.error("cannot reach the Bot API at %s: %s", settings.telegram_api_base_url, exc)
        return 1
    if updates.rejected:
        logger.error("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
        return 1
    return 0
