"""The token and the webhook secret never reach a log line, in messages or in tracebacks."""

from __future__ import annotations

import io
import logging

from bot.core.redact import RedactSecrets, RedactToken, install, protect, secrets_of

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


def test_handler_redaction_covers_every_logger_both_secrets_args_and_tracebacks() -> None:
    secret = "webhook-Secret_42"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    parent = logging.getLogger("test_redact_root")
    parent.addHandler(handler)
    install(secrets_of(TOKEN, secret), logger=parent)
    install(secrets_of(TOKEN, secret), logger=parent)  # idempotent
    logger = logging.getLogger("test_redact_root.bot.webserver")  # no filter of its own
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("Calling Bot API endpoint `setWebhook` with parameters `%s`", {"secret_token": secret})
        try:
            raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
        except RuntimeError as exc:
            logger.error("the bot could not start: %s", exc, exc_info=exc)
    finally:
        parent.removeHandler(handler)
    written = stream.getvalue()
    assert "'secret_token': '<secret>'" in written
    assert written.count("The token `<token>` was rejected") == 2 and "Traceback" in written
    assert TOKEN not in written and secret not in written
    assert sum(isinstance(f, RedactSecrets) for f in handler.filters) == 1
    assert secrets_of(None, None) == {}


def test_a_redis_password_is_redacted_as_written_and_decoded() -> None:
    url = "rediss://bot:p%40ss-w0rd_9@cache.example.com:6380/0"
    assert secrets_of(None, None, url) == {"p%40ss-w0rd_9": "<redis-password>", "p@ss-w0rd_9": "<redis-password>"}
    assert secrets_of(None, None, "redis://127.0.0.1:6379/0") == {}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    parent = logging.getLogger("test_redact_redis")
    parent.addHandler(handler)
    install(secrets_of(TOKEN, None, url), logger=parent)
    try:
        parent.warning("connecting to %s as %s", url, "p@ss-w0rd_9")
    finally:
        parent.removeHandler(handler)
    written = stream.getvalue()
    assert "rediss://bot:<redis-password>@cache.example.com:6380/0 as <redis-password>" in written
    assert "w0rd" not in written
