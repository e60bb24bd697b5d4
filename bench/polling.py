"""The real bot in this process, long-polling a stub Bot API on loopback: for benchmarks that time it."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from index import Engine
from tests.support.botapi import TOKEN, BotApiStub

_ids = itertools.count(1)


def private_message(user: int, **message: Any) -> dict[str, Any]:
    """An update with a new message from ``user`` in their private chat (``message``: its text, a document)."""
    sender = {"id": user, "is_bot": False, "first_name": f"Reader {user}", "language_code": "nl"}
    chat = {"id": user, "type": "private", "first_name": f"Reader {user}"}
    number = next(_ids)
    body = {"message_id": number, "date": int(time.time()), "chat": chat, "from": sender, **message}
    return {"update_id": number, "message": body}


@asynccontextmanager
async def polling_bot(engine: Engine, **settings: Any) -> AsyncIterator[BotApiStub]:
    """A stub Bot API and the application answering from ``engine`` over it, with ``settings``
    (the token and the API's address filled in, no ``.env`` read); both stopped afterwards."""
    from pydantic import SecretStr

    from bot.chat.telegram import build_application
    from bot.core.settings import Settings

    with BotApiStub() as api:
        values = {"telegram_bot_token": SecretStr(TOKEN), "telegram_api_base_url": api.base_url, **settings}
        app = build_application(Settings(_env_file=None, **values), engine=engine, polling=True)  # type: ignore[call-arg]
        await app.initialize()
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        try:
            yield api
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
