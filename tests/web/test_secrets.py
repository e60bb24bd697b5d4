"""``python -m bot serve`` in webhook mode never prints the token or the webhook secret, at any level."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index import Engine
from tests.support.botapi import TOKEN, BotApiStub
from tests.support.paths import copy_built
from tests.support.processes import SECRET
from tests.web.workers import start_worker


@pytest.fixture
def rejecting_api() -> Iterator[BotApiStub]:
    """A Bot API that knows another token: every call with ours, getMe first, gets 401."""
    with BotApiStub(token="654321:another-token") as api:
        yield api


def test_a_rejected_token_stops_webhook_mode_with_one_line_and_no_secrets(
    rejecting_api: BotApiStub, tmp_path: Path
) -> None:
    worker = start_worker("rejected", rejecting_api, tmp_path / "corpus", tmp_path / "index", tmp_path)
    assert worker.stop(None, timeout=120) == 1
    output = worker.output()
    assert rejecting_api.calls == []  # refused at the token check, before any method ran
    assert TOKEN not in output and SECRET not in output
    assert "the bot could not start: Telegram rejected TELEGRAM_BOT_TOKEN" in output
    assert "Traceback" not in output


def test_a_debug_webhook_start_logs_set_webhook_without_the_secrets(
    botapi: BotApiStub, article_engine: Engine, tmp_path: Path
) -> None:
    built = copy_built(article_engine.config, tmp_path)
    worker = start_worker("debug", botapi, built / "corpus", built / "index", tmp_path, env={"LOG_LEVEL": "DEBUG"})
    try:
        worker.wait_ready()
        assert botapi.wait_for("setWebhook")[0].params["secret_token"] == SECRET
    finally:
        assert worker.stop() == 0
    output = worker.output()
    assert "setWebhook" in output and "<secret>" in output and "<token>" in output
    assert TOKEN not in output and SECRET not in output
