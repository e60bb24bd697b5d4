"""Start-up refuses to serve a webhook without a proper secret or with a clashing path."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import pytest

from bot.web.app import create_app, problems
from index import Engine
from tests.support import processes
from tests.support.botapi import TOKEN
from tests.web.conftest import StartServer, web_settings


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot serve`` with only the given settings, from an empty folder (no .env)."""
    settings = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot", **env}
    return processes.run("serve", folder=tmp_path, env=settings, timeout=120)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "WEBHOOK_SECRET is not set"),
        ("", "WEBHOOK_SECRET is not set"),
        ("has spaces and !", "setting WEBHOOK_SECRET"),
        ("x" * 257, "setting WEBHOOK_SECRET"),
        ("sécret", "setting WEBHOOK_SECRET"),
    ],
)
def test_serve_refuses_a_missing_or_malformed_secret(tmp_path: Path, secret: str | None, message: str) -> None:
    env = {"WEBHOOK_URL": "https://bot.example.test/tg/abc"}
    if secret is not None:
        env["WEBHOOK_SECRET"] = secret
    result = serve(tmp_path, **env)
    assert result.returncode == 2
    assert message in result.stderr
    if secret:
        assert secret not in result.stderr  # a rejected secret is not echoed into logs
    assert TOKEN not in result.stderr


def test_serve_refuses_a_webhook_path_taken_by_health_routes(tmp_path: Path) -> None:
    result = serve(tmp_path, WEBHOOK_URL="https://bot.example.test/healthz", WEBHOOK_SECRET="abc")
    assert result.returncode == 2
    assert "taken by the health routes" in result.stderr


def test_create_app_needs_a_secret() -> None:
    class Api:
        base_url = "http://127.0.0.1:9/bot"
        file_url = "http://127.0.0.1:9/file/bot"

    settings = web_settings(Api(), webhook_secret=None)  # type: ignore[arg-type]
    assert problems(settings) and "WEBHOOK_SECRET is not set" in problems(settings)[0]
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        create_app(settings, object())  # type: ignore[arg-type]


async def test_a_port_in_use_stops_serve_with_status_1(
    start_server: StartServer, article_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = await start_server(article_engine, wait=False, webhook_port=taken.getsockname()[1])
        assert await asyncio.wait_for(server.task, timeout=30) == 1
    assert any("could not start" in r.getMessage() for r in caplog.records)
    assert server.api.calls_to("setWebhook") == []
