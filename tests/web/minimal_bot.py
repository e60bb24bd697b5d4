"""A small stand-in for ``bot.telegram.build_application``: answers every text with the engine."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.console import render
from bot.settings import Settings
from index import Engine


def minimal_application(settings: Settings, engine: Engine) -> Application[Any, Any, Any, Any, Any, Any]:
    """An application without an updater whose only handler answers text messages."""
    assert settings.telegram_bot_token is not None

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        application.bot_data["engine"] = engine

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        result = await asyncio.to_thread(engine.ask, update.effective_message.text)
        await update.effective_message.reply_text(render(result))

    application = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .updater(None)
        .concurrent_updates(True)
        .post_init(post_init)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, answer))
    return application
