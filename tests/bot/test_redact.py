"""The token never reaches a log line, in messages or in tracebacks."""

from __future__ import annotations

import io
import logging

from bot.redact import RedactToken, protect

TOKEN = "987654:SECRET-redact_me"


def test_messages_and_tracebacks_from_telegram_loggers_are_redacted() -> None:
    import telegram.ext  # noqa: F401  (its loggers exist once it is imported)

    protect(TOKEN)
    protect(TOKEN)  # idempotent
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("telegram.ext.Updater")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}")
        try:
            raise ValueError(f"The token `{TOKEN}` was rejected by the server.")
        except ValueError:
            logger.exception("bootstrap failed")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    written = stream.getvalue()
    assert "https://api.telegram.org/bot<token>" in written
    assert "The token `<token>` was rejected" in written and "Traceback" in written
    assert TOKEN not in written and "SECRET-redact_me" not in written
    assert sum(isinstance(f, RedactToken) and f.token == TOKEN for f in logger.filters) == 1
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
