"""Shared fixtures: the real default model, loaded once, a hashing stand-in for tests of mechanics,
and engines over temporary corpora."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from index import DEFAULT_MODEL, Engine, EngineConfig
from index.encoders import Encoder, open_encoder
from tests.support.hashing import HashingEncoder
from tests.support.paths import ARTICLE, PROJECT

__all__ = ["ARTICLE", "ARTICLE_SOURCE", "ARTICLE_TITLE", "PROJECT"]
# What readers see wherever the bot names the article: its title, guessed from the file name
# (it has no "title:" line, see README), never the file name itself.
ARTICLE_TITLE = "Armenia icc"
# Where a passage of the article says it comes from: its title and date.
ARTICLE_SOURCE = f"{ARTICLE_TITLE} (2023-10)"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The default embedding model, loaded once for the whole run."""
    return open_encoder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def article_engine(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Engine:
    """An engine over the article, built once; tests must not change its corpus."""
    root = tmp_path_factory.mktemp("article")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus)
    engine = Engine(EngineConfig(corpus_dir=corpus, index_dir=root / "index"), encoder)
    engine.load()
    return engine


MakeEngine = Callable[..., Engine]


@pytest.fixture(scope="session")
def hashing() -> Encoder:
    """The deterministic stand-in for the model (``tests.support.hashing``)."""
    return HashingEncoder()


def _maker(folder: Path, encoder: Encoder, model: str) -> MakeEngine:
    def make(files: dict[str, str | bytes] | None = None, **config: object) -> Engine:
        corpus = folder / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in (files or {}).items():
            path = corpus / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        config.setdefault("model", model)
        settings = EngineConfig(corpus_dir=corpus, index_dir=folder / "index", **config)  # type: ignore[arg-type]
        return Engine(settings, encoder)

    return make


@pytest.fixture
def make_engine(tmp_path: Path, encoder: Encoder) -> MakeEngine:
    """Build an unloaded engine with the real model over a fresh corpus folder holding ``files``
    (name → text or bytes); each call shares the folder, so a second engine sees the first's index."""
    return _maker(tmp_path, encoder, DEFAULT_MODEL)


@pytest.fixture
def make_hashed_engine(tmp_path: Path, hashing: Encoder) -> MakeEngine:
    """``make_engine`` with the hashing stand-in: for tests of files, manifests and rebuilds."""
    return _maker(tmp_path, hashing, hashing.name)
