"""End to end behind TLS: deploy/'s nginx site on loopback in front of the webhook server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.web.app import SECRET_HEADER
from index import Engine
from tests.support.nginx import NGINX, OPENSSL, Nginx, client_tls_context, self_signed_certificate
from tests.support.ports import free_port
from tests.support.updates import message_update
from tests.web.conftest import SECRET, WEBHOOK_PATH, StartServer

pytestmark = pytest.mark.skipif(
    NGINX is None or OPENSSL is None,
    reason="nginx/openssl not installed; `make test` and .ci/run install them (apt-get, as root)",
)

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-article-bot.conf"
QUESTIONS = [
    "Wat betekent de aansluiting bij het Strafhof voor Poetin?",
    "Waarom verslechteren de banden tussen Armenië en Rusland?",
    "Welke bondgenoten zoekt de Armeense regering?",
    "Hoe reageert het Kremlin?",
]


def loopback_site(cert: Path, key: Path, port: int, app_port: int, second_port: int | None = None) -> str:
    """The deployed site, changed only where a loopback test must: address, certificate, upstream, path."""
    site = SITE.read_text()
    if second_port is not None:
        site = site.replace("# server 127.0.0.1:8081;", f"server 127.0.0.1:{second_port};")
    replacements = {
        "    listen 443 ssl;\n": f"    listen 127.0.0.1:{port} ssl;\n",
        "    listen [::]:443 ssl;\n": "",
        "/etc/letsencrypt/live/bot.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/bot.example.com/privkey.pem": str(key),
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{app_port};",
        "location = /telegram/CHANGE-ME {": f"location = {WEBHOOK_PATH} {{",
    }
    for old, new in replacements.items():
        assert old in site, f"{SITE.name} no longer contains {old!r}"
        site = site.replace(old, new)
    return site


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[tuple[Path, Path, int]]:
    """A self-signed certificate for 127.0.0.1 and a free port for nginx."""
    cert, key = self_signed_certificate(tmp_path)
    yield cert, key, free_port()


async def test_updates_through_nginx_with_tls_are_answered(
    start_server: StartServer, article_engine: Engine, tls: tuple[Path, Path, int], tmp_path: Path
) -> None:
    cert, key, port = tls
    server = await start_server(article_engine, webhook_url=f"https://127.0.0.1:{port}{WEBHOOK_PATH}")
    site = loopback_site(cert, key, port, server.settings.webhook_port)
    headers = {SECRET_HEADER: SECRET}
    (tmp_path / "nginx").mkdir()
    with Nginx(tmp_path / "nginx", site, port) as proxy:
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=client_tls_context(cert)) as client:
            updates = [message_update(1000 + i, chat_id=900 + i, text=QUESTIONS[i % 4]) for i in range(20)]
            responses = await asyncio.gather(*(client.post(WEBHOOK_PATH, json=u, headers=headers) for u in updates))
            assert [r.status_code for r in responses] == [200] * 20
            # Redelivered through the proxy: taken once.
            assert (await client.post(WEBHOOK_PATH, json=updates[0], headers=headers)).text == "duplicate\n"

            calls = await server.api.async_wait_for("sendMessage", 20)
            answered = sorted(int(c.params["chat_id"]) for c in calls)
            assert answered == list(range(900, 920))
            assert all("arrestatiebevel" in c.params["text"] for c in calls if int(c.params["chat_id"]) == 900)

            wrong = await client.post(WEBHOOK_PATH, json=message_update(1100, 990, "x"), headers={SECRET_HEADER: "no"})
            assert wrong.status_code == 403
            not_json = await client.post(WEBHOOK_PATH, content=b"{oops", headers=headers)
            assert not_json.status_code == 400
            big = json.dumps({"update_id": 1101, "padding": "x" * 10_000_000}).encode()
            assert (await client.post(WEBHOOK_PATH, content=big, headers=headers)).status_code == 413
            # Only the webhook path is published; health and metrics stay on the private port.
            assert (await client.get("/healthz")).status_code == 404
            assert (await client.get("/metrics")).status_code == 404
            assert (await client.get(WEBHOOK_PATH)).status_code == 403

            last = await client.post(WEBHOOK_PATH, json=message_update(1102, 991, QUESTIONS[0]), headers=headers)
            assert last.status_code == 200
            await server.api.async_wait_for("sendMessage", 21)
        assert "[emerg]" not in proxy.error_log()

    (call,) = server.api.calls_to("setWebhook")
    assert call.params["url"] == f"https://127.0.0.1:{port}{WEBHOOK_PATH}"
    assert len(server.api.calls_to("sendMessage")) == 21
    with pytest.raises(httpx.TransportError):  # nginx has stopped
        httpx.get(f"https://127.0.0.1:{port}/healthz", verify=client_tls_context(cert), timeout=2)


async def test_nginx_passes_updates_on_when_a_worker_is_down(
    start_server: StartServer, article_engine: Engine, tls: tuple[Path, Path, int], tmp_path: Path
) -> None:
    cert, key, port = tls
    server = await start_server(article_engine, webhook_url=f"https://127.0.0.1:{port}{WEBHOOK_PATH}")
    down = free_port()  # a second worker that is not running: connections are refused
    site = loopback_site(cert, key, port, server.settings.webhook_port, second_port=down)
    assert f"server 127.0.0.1:{down};" in site
    (tmp_path / "nginx").mkdir()
    with Nginx(tmp_path / "nginx", site, port):
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{port}", verify=client_tls_context(cert)) as client:
            updates = [message_update(2000 + i, chat_id=950 + i, text=QUESTIONS[i % 4]) for i in range(10)]
            for update in updates:  # one at a time, so round robin tries the missing worker too
                response = await client.post(WEBHOOK_PATH, json=update, headers={SECRET_HEADER: SECRET})
                assert response.status_code == 200
    calls = await server.api.async_wait_for("sendMessage", 10)
    assert sorted(int(c.params["chat_id"]) for c in calls) == list(range(950, 960))
