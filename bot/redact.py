"""Keep the bot token out of the logs: Bot API URLs carry it, and libraries log URLs and errors.

python-telegram-bot logs the Bot API URL at DEBUG ("Set Bot API URL: .../bot<token>") and a
rejected token's error message names the token; httpx logs every request URL at INFO.
"""

from __future__ import annotations

import logging

_FORMATTER = logging.Formatter()


class RedactToken(logging.Filter):
    """Replace the token in a record's message and traceback with ``<token>``."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), None
        if record.exc_info and record.exc_info[1] is not None:
            trace = record.exc_text or _FORMATTER.formatException(record.exc_info)
            if self.token in trace:
                record.exc_text = trace.replace(self.token, "<token>")  # formatters print exc_text when set
        return True


def _url_loggers() -> list[str]:
    """python-telegram-bot's loggers (created when its modules are imported), httpx and httpcore."""
    names = [name for name in logging.root.manager.loggerDict if name == "telegram" or name.startswith("telegram.")]
    return sorted({"telegram", "telegram.ext", "telegram.Bot", "telegram.ext.ExtBot", *names, "httpx", "httpcore"})


def protect(token: str) -> None:
    """Install the redaction on every logger that may see the token (once per token); httpx at WARNING."""
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.setLevel(max(httpx_logger.level, logging.WARNING))
    for name in _url_loggers():
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactToken) and f.token == token for f in logger.filters):
            logger.addFilter(RedactToken(token))
