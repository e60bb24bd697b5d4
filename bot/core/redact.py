"""Keep the secrets out of the logs: Bot API URLs carry the token, and libraries log URLs and errors.

python-telegram-bot logs the Bot API URL at DEBUG ("Set Bot API URL: .../bot<token>") and the
``setWebhook`` parameters (the webhook secret among them); a rejected token's error message names
the token; httpx logs every request URL at INFO. ``install`` puts the redaction on the handlers
of the root logger, so every logger that propagates to them is covered; ``protect`` also puts it
on the URL loggers themselves, for handlers attached to them directly.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

_FORMATTER = logging.Formatter()
# Keys the reader tags of this process: a tag tells readers apart within a run, and a log
# reader cannot turn it back into a Telegram id by hashing every id in turn.
_TAG_KEY = os.urandom(16)


class RedactSecrets(logging.Filter):
    """Replace each secret in a record's message, traceback and stack with its placeholder."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = dict(sorted(((s, p) for s, p in secrets.items() if s), key=lambda item: -len(item[0])))

    def _scrub(self, text: str) -> str:
        for secret, placeholder in self.secrets.items():
            text = text.replace(secret, placeholder)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self._scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            trace = record.exc_text or _FORMATTER.formatException(record.exc_info)
            clean = self._scrub(trace)
            if clean != trace:
                record.exc_text = clean  # formatters print exc_text when set
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True


class RedactToken(RedactSecrets):
    """Replace the token with ``<token>``."""

    def __init__(self, token: str) -> None:
        super().__init__({token: "<token>"})
        self.token = token


def secrets_of(token: str | None, webhook_secret: str | None, redis_url: str | None = None) -> dict[str, str]:
    """The placeholder for each secret that is set; REDIS_URL's password as written and decoded."""
    found = {token: "<token>", webhook_secret: "<secret>"}
    password = urlsplit(redis_url).password if redis_url else None
    if password:
        found |= {password: "<redis-password>", unquote(password): "<redis-password>"}
    return {secret: placeholder for secret, placeholder in found.items() if secret}


def install(secrets: Mapping[str, str], logger: logging.Logger = logging.root) -> None:
    """Redact ``secrets`` on every handler of ``logger`` (the root: every propagating logger)."""
    wanted = RedactSecrets(secrets)
    if not wanted.secrets:
        return
    for handler in logger.handlers:
        if not any(isinstance(f, RedactSecrets) and f.secrets == wanted.secrets for f in handler.filters):
            handler.addFilter(RedactSecrets(secrets))


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


def reader_tag(user_id: int | None) -> str:
    """A short stand-in for a Telegram user or chat id in a log line: the same id gives the same
    tag for the life of the process, and the id cannot be read back from it."""
    if user_id is None:
        return "-"
    return hmac.new(_TAG_KEY, str(user_id).encode(), hashlib.sha256).hexdigest()[:8]


class HideUpdates(logging.Filter):
    """Keep readers' names, ids and messages out of python-telegram-bot's own log lines.

    At DEBUG it logs every update whole ("Processing update %s": the sender's name, username and
    id, the chat, the text) and every Bot API call with its parameters (the chat id, the reply).
    In a record from a ``telegram`` logger, an argument that is a Telegram object becomes its
    type and update id, and one that is a dict or list (request parameters, raw updates) becomes
    a placeholder; the bot's own lines never carry them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.name == "telegram" or record.name.startswith("telegram.")) or not record.args:
            return True
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        record.args = tuple(_hidden(arg) for arg in args)
        return True


def _hidden(arg: object) -> object:
    if type(arg).__module__.startswith("telegram"):
        update_id = getattr(arg, "update_id", None)
        return f"<{type(arg).__name__} {update_id}>" if update_id is not None else f"<{type(arg).__name__}>"
    if isinstance(arg, dict | list | tuple):
        return "<hidden>"
    return arg


def hide_updates(logger: logging.Logger = logging.root) -> None:
    """Put ``HideUpdates`` on every handler of ``logger`` (the root: every propagating logger)."""
    for handler in logger.handlers:
        if not any(isinstance(f, HideUpdates) for f in handler.filters):
            handler.addFilter(HideUpdates())
