"""Fixtures for the bot: settings over temporary folders and applications wired to a recording request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.chat.telegram import build_application
from bot.core.settings import Settings
from index import Engine
from tests.support.botapi import TOKEN
from tests.support.paths import copy_built
from tests.support.recording import Call, RecordingRequest
from tests.support.updates import ADMIN_ID, parse

QUESTION = "Wat moet Armenië doen als Poetin op bezoek komt?"
ANSWER_SENTENCE = "Wil Poetin nu Armenië bezoeken, dan is de regering verplicht om hem aan te houden."
OFF_TOPIC = "How long should I knead bread dough?"
HEDGE = {
    "en": "The article does not answer this directly; the closest passages:",
    "nl": "Het artikel geeft hier geen direct antwoord op; de passages die er het dichtst bij komen:",
}

MakeSettings = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings for tests: no .env, a fake token, one admin, temporary corpus and index folders, and a
    throttle wide enough for a test's dozen messages (tests about the throttle set their own)."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": TOKEN,
            "telegram_api_base_url": "http://telegram.invalid/bot",
            "admin_user_ids": frozenset({ADMIN_ID}),
            "corpus_dir": tmp_path / "corpus",
            "index_dir": tmp_path / "index",
            "throttle_questions": 1000,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


def _article_engine_with(article_engine: Engine, answer_relevance: float) -> Engine:
    """The shared article engine's index and model, with another bar for a real answer."""
    engine = Engine(replace(article_engine.config, answer_relevance=answer_relevance), article_engine.encoder)
    engine.load()  # the index is already built for this corpus and model: read, not rebuilt
    return engine


@pytest.fixture(scope="session")
def hedging_engine(article_engine: Engine) -> Engine:
    """The article engine with an unreachable answer bar: every covered question is hedged."""
    return _article_engine_with(article_engine, answer_relevance=1e9)


@pytest.fixture(scope="session")
def sure_engine(article_engine: Engine) -> Engine:
    """The article engine with no answer bar above the passage bar: every covered question is answered."""
    return _article_engine_with(article_engine, answer_relevance=-1e9)


@dataclass
class Bot:
    """An initialised application whose Bot API traffic is recorded instead of sent."""

    app: Application
    api: RecordingRequest

    async def send(self, update: dict[str, Any]) -> list[Call]:
        """Process one update the way the application would; the Bot API calls it caused."""
        before = len(self.api.calls)
        await self.app.process_update(parse(update, self.app.bot))
        return self.api.calls[before:]

    async def replies(self, update: dict[str, Any]) -> list[str]:
        """Texts of the messages sent (or edited) in answer to ``update``."""
        calls = await self.send(update)
        return [str(c.params["text"]) for c in calls if c.method in ("sendMessage", "editMessageText")]


MakeBot = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def make_bot(make_settings: MakeSettings) -> AsyncIterator[MakeBot]:
    """Start applications over ``engine`` (default: the shared article engine); shut down after the test."""
    started: list[Application] = []

    async def make(engine: Engine, **settings: Any) -> Bot:
        api = RecordingRequest()
        app = build_application(make_settings(**settings), engine=engine, polling=False, request=api)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        started.append(app)
        return Bot(app, api)

    yield make
    for app in started:
        await app.stop()
        await app.shutdown()


@pytest.fixture
async def article_bot(make_bot: MakeBot, article_engine: Engine) -> Bot:
    """A bot answering from the shared article engine (its corpus must not change)."""
    return await make_bot(article_engine, corpus_dir=article_engine.config.corpus_dir)


@pytest.fixture
def own_corpus(tmp_path: Path, article_engine: Engine) -> Engine:
    """An engine over private copies of the article and of its index (loaded, not rebuilt) that
    admin tests may change."""
    built = copy_built(article_engine.config, tmp_path / "copied")
    engine = Engine(
        replace(article_engine.config, corpus_dir=built / "corpus", index_dir=built / "index"), article_engine.encoder
    )
    engine.load()
    return engine
