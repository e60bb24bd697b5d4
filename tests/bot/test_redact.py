"""The token and the webhook secret never reach a log line, in messages or in tracebacks."""

from __future__ import annotations

import io
import logging
import signal
from pathlib import Path

from bot.core.redact import RedactSecrets, RedactToken, install, protect, secrets_of
from index import Engine

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


def test_telegram_objects_and_request_parameters_are_hidden_in_library_lines() -> None:
    from telegram import Update

    from bot.core.redact import HideUpdates
    from tests.support.updates import text_update

    update = Update.de_json(text_update("Mijn adres is Dorpsstraat 1"), None)
    hide = HideUpdates()
    processing = logging.LogRecord(
        "telegram.ext.Application", logging.DEBUG, "", 0, "Processing update %s", (update,), None
    )
    hide.filter(processing)
    assert processing.getMessage() == f"Processing update <Update {update.update_id}>"
    calling = logging.LogRecord(
        "telegram.ext.ExtBot",
        logging.DEBUG,
        "",
        0,
        "Calling Bot API endpoint `%s` with parameters `%s`",
        ("sendMessage", {"chat_id": 4242, "text": "Dorpsstraat 1"}),
        None,
    )
    hide.filter(calling)
    assert calling.getMessage() == "Calling Bot API endpoint `sendMessage` with parameters `<hidden>`"
    own = logging.LogRecord("bot.chat.handlers", logging.INFO, "", 0, "values %s", ({"kept": 1},), None)
    hide.filter(own)
    assert own.getMessage() == "values {'kept': 1}"


def test_a_reader_tag_tells_readers_apart_without_their_id() -> None:
    from bot.core.redact import reader_tag

    assert reader_tag(918273645) == reader_tag(918273645) != reader_tag(918273646)
    assert "918273645" not in reader_tag(918273645) and len(reader_tag(918273645)) == 8
    assert reader_tag(None) == "-"


READER_ID = 918273645
READER = {"id": READER_ID, "is_bot": False, "first_name": "Marijke", "last_name": "Zwanenburg", "username": "mzwan_nl"}
ADMIN = 564738291


def test_a_debug_run_never_logs_a_readers_name_or_id(article_engine: Engine, tmp_path: Path) -> None:
    """serve at LOG_LEVEL=DEBUG: a question, a refused admin command, a failed reply (the error
    handler), and an admin whose command menu cannot be set; none of their names or ids in the log."""
    from tests.bot.conftest import ANSWER_SENTENCE, QUESTION
    from tests.bot.test_polling_e2e import polls, serving
    from tests.support.botapi import BotApiStub, Fault
    from tests.support.updates import text_update

    def sent(text: str) -> dict[str, object]:
        update = text_update(text, language_code="nl")
        update["message"]["from"] = dict(READER)
        update["message"]["chat"] = {k: v for k, v in READER.items() if k != "is_bot"} | {"type": "private"}
        return update

    with BotApiStub() as api:
        api.fail(Fault("setMyCommands", status=400, times=3))  # the admin's menu too: logged at INFO
        with serving(api, article_engine, tmp_path, ADMIN_USER_IDS=str(ADMIN)) as bot:
            try:
                bot.wait_ready(polls(api), timeout=90)
                api.push_update(sent(QUESTION))
                (answer,) = api.wait_for("sendMessage", timeout=60)
                api.push_update(sent("/reindex"))
                api.wait_for("sendMessage", 2, timeout=60)
                api.fail(Fault("sendMessage", status=400, chat_id=READER_ID))
                api.push_update(sent(QUESTION))
                api.wait_for("sendMessage", 4, timeout=60)  # the failed answer, then the apology
            finally:
                bot.stop(signal.SIGINT, timeout=60)
    log = bot.output()
    assert ANSWER_SENTENCE in str(answer.params["text"])
    for personal in ("918273645", "Marijke", "Zwanenburg", "mzwan_nl", str(ADMIN)):
        assert personal not in log, personal
    assert "Processing update <Update " in log and "refused an admin request from reader " in log, log
    assert "error while handling an update" in log and "no admin command menu for admin " in log, log
