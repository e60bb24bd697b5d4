"""Keep the bot token out of the logs: Bot API URLs carry it, and libraries log URLs."""

from __future__ import annotations

import logging

# Loggers that write Bot API URLs: python-telegram-bot's bot at DEBUG ("Set Bot API URL"),
# httpx/httpcore for every request. httpx is also kept at WARNING.
URL_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "httpx", "httpcore")


class RedactToken(logging.Filter):
    """Replace the token in a log record's message with ``<token>``."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def protect(token: str) -> None:
    """Install the redaction on the URL-logging loggers (once per token) and keep httpx at WARNING."""
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.setLevel(max(httpx_logger.level, logging.WARNING))
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))
