"""Shared fixtures: the real default model, loaded once, and engines over temporary corpora."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from index import DEFAULT_MODEL, Engine, EngineConfig
from index.encoders import Encoder, open_encoder

PROJECT = Path(__file__).resolve().parent.parent
ARTICLE = PROJECT / "corpus" / "armenia-icc-2023-10.txt"
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


@pytest.fixture
def make_engine(tmp_path: Path, encoder: Encoder) -> Callable[..., Engine]:
    """Build an unloaded engine over a fresh corpus folder holding ``files`` (name → text or bytes)."""

    def make(files: dict[str, str | bytes] | None = None, **config: object) -> Engine:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, content in (files or {}).items():
            path = corpus / name
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        settings = EngineConfig(corpus_dir=corpus, index_dir=tmp_path / "index", **config)  # type: ignore[arg-type]
        return Engine(settings, encoder)

    return make
