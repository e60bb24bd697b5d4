"""Rebuilding only what changed: unchanged documents' vectors are copied, and the result is a full build's."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index import Engine, EngineConfig
from index.encoders import BATCH, Check, Encoder
from tests.conftest import ARTICLE

A = {
    ARTICLE.name: ARTICLE.read_text("utf-8"),
    "kort.txt": "title: Kort\nEen alinea zonder punt aan het eind\n\nTwee zinnen hier. En nog een.",
}
B = {"haven.txt": "title: De haven\nDe haven van Rotterdam groeit. Er komen meer schepen.\n\nDe kade wordt langer."}
B_CHANGED = {"haven.txt": B["haven.txt"].replace("meer schepen", "minder schepen")}
QUESTIONS = ("Wie is Maria Lvova-Belova?", "Groeit de haven van Rotterdam?", "Wat moet Armenië doen als Poetin komt?")
VECTOR_FILES = ("sentences.npy", "titled.npy", "paragraphs.npy", "hubness.npy", "background.npy")


class Counting:
    """An encoder that counts the texts it is given, around a real one or a hash of each text."""

    def __init__(self, inner: Encoder | None = None, dimension: int = 16) -> None:
        self.inner = inner
        self.name = inner.name if inner else "hashed"
        self.dimension = inner.dimension if inner else dimension
        self.passages: list[str] = []
        self.questions: list[str] = []

    def queries(self, texts: list[str]) -> np.ndarray:
        self.questions += texts
        return self.inner.queries(texts) if self.inner else self._hashed(texts, "q")

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        self.passages += texts
        if self.inner:
            return self.inner.documents(texts, batch_size=batch_size, check=check)
        return self._hashed(texts, "p")

    def _hashed(self, texts: list[str], side: str) -> np.ndarray:
        rows = [
            np.random.default_rng(list(hashlib.sha256((side + t).encode()).digest())).normal(size=self.dimension)
            for t in texts
        ]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dimension)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def reset(self) -> None:
        self.passages, self.questions = [], []


def _engine(root: Path, files: dict[str, str], encoder: Encoder) -> Engine:
    """An engine over a corpus folder holding exactly ``files`` (written again each call)."""
    corpus = root / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for name, text in files.items():
        (corpus / name).write_text(text, "utf-8")
    return Engine(EngineConfig(corpus_dir=corpus, index_dir=root / "index", model=encoder.name), encoder)


def _set_corpus(engine: Engine, files: dict[str, str]) -> None:
    corpus = engine.config.corpus_dir
    for path in corpus.iterdir():
        path.unlink()
    for name, text in files.items():
        (corpus / name).write_text(text, "utf-8")


def _arrays(engine: Engine) -> dict[str, np.ndarray]:
    folder = engine.config.index_dir / engine.index.version
    arrays = {name: np.load(folder / name) for name in (*VECTOR_FILES, "background_queries.npy")}
    arrays["vectors.faiss"] = engine.index.vectors.reconstruct_n(0, engine.index.vectors.ntotal)
    return arrays


def test_the_default_model_embeds_each_text_independently_of_its_batch(encoder: Encoder) -> None:
    """A text's vector is the same, bit for bit, alone, in a batch of others, or in another order."""
    texts = [*[p.strip() for p in ARTICLE.read_text("utf-8").split("\n\n") if p.strip()][:12], "Kort.", "Een zin."]
    together = encoder.documents(texts)
    alone = np.concatenate([encoder.documents([t]) for t in texts])
    reversed_ = encoder.documents(texts[::-1])[::-1]
    assert np.array_equal(together, alone) and np.array_equal(together, reversed_)
    assert np.array_equal(encoder.queries(texts[:4]), np.concatenate([encoder.queries([t]) for t in texts[:4]]))


def test_incremental_builds_give_the_vectors_and_answers_of_full_builds(tmp_path: Path, hashing: Encoder) -> None:
    """A, then A+B, then A+B' (B changed), then A alone, each built beside the one before, against
    a full build of the same corpus in a fresh folder. With a model that embeds each text on its
    own, as the default does (the test above), copied rows are the rows a full build encodes."""
    encoder = hashing
    counting = Counting(encoder)
    engine = _engine(tmp_path / "incremental", A, counting)
    engine.reindex()
    for step, files in enumerate(({**A, **B}, {**A, **B_CHANGED}, A)):
        _set_corpus(engine, files)
        counting.reset()
        report = engine.reindex()
        assert report.embedded == (0 if files == A else 1) and report.reused == len(A)
        assert counting.questions == []  # the background came from the served index
        full = _engine(tmp_path / f"full-{step}", files, encoder)
        full.reindex()
        expected, got = _arrays(full), _arrays(engine)
        for name, array in expected.items():
            assert np.array_equal(got[name], array), (step, name)
        for question in QUESTIONS:
            assert engine.ask(question) == full.ask(question), (step, question)


def test_only_new_and_changed_documents_are_encoded(tmp_path: Path) -> None:
    encoder = Counting()
    engine = _engine(tmp_path, A, encoder)
    first = engine.reindex()
    assert (first.embedded, first.reused) == (2, 0)
    assert encoder.questions  # the background, once
    texts_of_a = len(encoder.passages)

    _set_corpus(engine, {**A, **B})
    encoder.reset()
    added = engine.reindex()
    assert (added.embedded, added.reused) == (1, 2)
    assert encoder.questions == []
    assert set(encoder.passages) == {
        "De haven van Rotterdam groeit.",
        "Er komen meer schepen.",
        "De kade wordt langer.",
        "De haven: De haven van Rotterdam groeit.",
        "De haven: Er komen meer schepen.",
        "De haven: De kade wordt langer.",
        "De haven van Rotterdam groeit. Er komen meer schepen.",
    }

    _set_corpus(engine, {**A, "haven.txt": B["haven.txt"].replace("title: De haven", "title: Havens")})
    encoder.reset()
    retitled = engine.reindex()
    assert (retitled.embedded, retitled.reused) == (1, 2)  # a new title changes the titled sentences

    _set_corpus(engine, A)
    encoder.reset()
    removed = engine.reindex()
    assert (removed.embedded, removed.reused) == (0, 2)
    assert encoder.passages == [] and encoder.questions == []
    assert texts_of_a > 0 and engine.index.manifest["documents"] == 2


def test_reuse_reads_the_served_version_and_never_writes_it(tmp_path: Path) -> None:
    engine = _engine(tmp_path, A, Counting())
    engine.reindex()
    served = engine.config.index_dir / engine.index.version
    before = {p.name: p.read_bytes() for p in served.rglob("*") if p.is_file()}
    _set_corpus(engine, {**A, **B})
    engine.reindex()
    assert {p.name: p.read_bytes() for p in served.rglob("*") if p.is_file()} == before


def test_a_failed_incremental_build_leaves_the_old_index_serving(tmp_path: Path) -> None:
    encoder = Counting()
    engine = _engine(tmp_path, A, encoder)
    engine.reindex()
    version = engine.index.version
    _set_corpus(engine, {**A, **B})

    def broken(texts: list[str], **kwargs: object) -> np.ndarray:
        raise RuntimeError("the model broke")

    encoder.documents = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        engine.reindex()
    assert engine.index.version == version == engine.store.current()
    assert not list(engine.config.index_dir.glob(".building-*"))


def test_an_index_without_digests_or_of_other_prompts_means_a_full_build(tmp_path: Path) -> None:
    encoder = Counting()
    engine = _engine(tmp_path, A, encoder)
    engine.reindex()
    records = engine.config.index_dir / engine.index.version / "documents.json"
    data = json.loads(records.read_text("utf-8"))
    for record in data["documents"]:
        del record["digest"]  # as an index written before digests, say
    records.write_text(json.dumps(data), "utf-8")
    engine.load(build=False)
    assert engine.reindex().embedded == 2

    encoder.reset()
    prompted = Engine(
        EngineConfig(
            corpus_dir=engine.config.corpus_dir,
            index_dir=engine.config.index_dir,
            model="hashed",
            document_prompt="passage: ",
        ),
        encoder,
    )
    prompted.load(build=False)
    assert prompted.reindex().embedded == 2


def test_a_restart_after_the_corpus_changed_reuses_the_index_on_disk(tmp_path: Path) -> None:
    encoder = Counting()
    _engine(tmp_path, A, encoder).reindex()
    engine = _engine(tmp_path, {**A, **B}, encoder)  # a new process: nothing served yet
    encoder.reset()
    engine.load()
    assert engine.index.manifest["reused"] == 2 and engine.index.manifest["embedded"] == 1
    assert encoder.questions == []


def test_a_reindex_without_a_served_index_reuses_the_published_one(tmp_path: Path) -> None:
    """``python -m bot reindex`` loads no index itself: the current version on disk is the source."""
    encoder = Counting()
    _engine(tmp_path, A, encoder).reindex()
    encoder.reset()
    report = _engine(tmp_path, {**A, **B}, encoder).reindex()
    assert (report.embedded, report.reused, encoder.questions) == (1, 2, [])


def test_a_fresh_index_folder_takes_the_background_of_the_same_encoders_last_build(tmp_path: Path) -> None:
    """The background is encoded once per encoder in a process, not once per index folder."""
    encoder = Counting()
    _engine(tmp_path / "first", A, encoder).reindex()
    assert encoder.questions
    encoder.reset()
    _engine(tmp_path / "second", B, encoder).reindex()
    assert encoder.questions == []
    assert np.array_equal(
        np.load(tmp_path / "first" / "index" / _current(tmp_path / "first") / "background.npy"),
        np.load(tmp_path / "second" / "index" / _current(tmp_path / "second") / "background.npy"),
    )
    other = Counting()  # another encoder object: its own vectors, encoded by it
    _engine(tmp_path / "third", A, other).reindex()
    assert other.questions


def _current(root: Path) -> str:
    return (root / "index" / "CURRENT").read_text("utf-8").strip()
