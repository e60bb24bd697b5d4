"""Building an index a block at a time, and serving it from mapped files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import Engine, load_corpus
from index import build as build_module
from index.arrays import RowFile, RowWriter, distinct
from index.background import background_texts
from index.passages import rows_of
from index.search import hubness, titled
from index.vectors import make_vector_index
from tests.conftest import ARTICLE

Make = Callable[..., Engine]
TWO_DOCUMENTS = {
    ARTICLE.name: ARTICLE.read_bytes(),
    "kort.txt": "title: Kort\nEen alinea zonder punt aan het eind\n\nTwee zinnen hier. En nog een.",
}


def test_a_streamed_build_gives_the_vectors_of_one_call(
    make_hashed_engine: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of one batch each (the smallest a build uses) give the vectors embedding every text at once does."""
    monkeypatch.setattr(build_module, "TEXT_BLOCK", 64)
    engine = make_hashed_engine(TWO_DOCUMENTS)
    engine.load()
    index = engine.index
    paragraphs = load_corpus(engine.config.corpus_dir).paragraphs
    rows = [s for p in paragraphs for s in rows_of(p)]
    titles = {d.name: d.title for d in load_corpus(engine.config.corpus_dir).documents}
    encoder = engine.encoder
    assert np.array_equal(index.vectors.reconstruct_n(0, index.vectors.ntotal), encoder.documents(rows))
    assert np.array_equal(
        np.asarray(index.titled_vectors),
        encoder.documents([titled(titles[p.source], s) for p in paragraphs for s in rows_of(p)]),
    )
    assert np.array_equal(np.asarray(index.paragraph_vectors), encoder.documents([p.text for p in paragraphs]))
    expected_hubness = hubness(encoder.documents([p.text for p in paragraphs]), encoder.queries(background_texts()))
    np.testing.assert_allclose(index.paragraph_hubness, expected_hubness, atol=1e-6)
    assert not list((engine.config.index_dir / index.version).glob(".*"))  # the block files are gone


def test_a_loaded_index_gives_back_every_paragraph_and_sentence(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine(TWO_DOCUMENTS)
    engine.load()
    corpus = load_corpus(engine.config.corpus_dir)
    reloaded = make_hashed_engine()
    reloaded.load(build=False)
    assert list(reloaded.index.paragraphs) == corpus.paragraphs
    assert reloaded.sources() == corpus.documents
    assert reloaded.sources()[1].paragraphs[0].text == "Een alinea zonder punt aan het eind"
    rows = [(p, s) for p in corpus.paragraphs for s in range(len(rows_of(p)))]
    assert [int(x) for x in reloaded.index.sentence_offset] == [s for _, s in rows]


def test_a_loaded_index_maps_its_files_instead_of_reading_them(make_hashed_engine: Make) -> None:
    """Mapped pages are the page cache's: every worker serving the version shares them."""
    engine = make_hashed_engine({ARTICLE.name: ARTICLE.read_bytes()})
    engine.load()
    reader = make_hashed_engine()
    reader.load(build=False)
    folder = engine.config.index_dir / reader.index.version
    maps = Path("/proc/self/maps").read_text()
    for name in ("vectors.faiss", "titled.npy", "paragraphs.npy", "text.bin", "sentence_paragraph.npy"):
        assert str(folder / name) in maps, name
    assert str(folder / "lexical") in maps  # the BM25 score matrix
    assert reader.ask("Wie is Maria Lvova-Belova?") == engine.ask("Wie is Maria Lvova-Belova?")


def test_an_inverted_file_is_read_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from index import vectors as vectors_module

    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 10)
    monkeypatch.setattr(vectors_module, "IVF_FROM", 10)
    data = np.random.default_rng(0).standard_normal((2_000, 16)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = make_vector_index(data)
    assert isinstance(index, faiss.IndexIVFScalarQuantizer)
    vectors_module.write_vector_index(index, tmp_path / "vectors.faiss")
    read = vectors_module.read_vector_index(tmp_path / "vectors.faiss")
    assert str(tmp_path / "vectors.faiss") in Path("/proc/self/maps").read_text()
    assert np.array_equal(read.search(data[:20], 3)[1], index.search(data[:20], 3)[1])


def test_vectors_from_a_file_give_the_index_vectors_in_memory_give(tmp_path: Path) -> None:
    data = np.random.default_rng(1).standard_normal((1_000, 8)).astype(np.float32)
    with RowWriter(tmp_path / "rows.npy", len(data), 8) as out:
        for start in range(0, len(data), 300):
            out.append(data[start : start + 300])
    assert np.array_equal(np.load(tmp_path / "rows.npy"), data)
    rows = RowFile(tmp_path / "rows.npy")
    assert np.array_equal(rows.take(np.array([0, 5, 999])), data[[0, 5, 999]])
    from_file, in_memory = make_vector_index(rows), make_vector_index(data)
    assert np.array_equal(from_file.reconstruct_n(0, 1_000), in_memory.reconstruct_n(0, 1_000))


@pytest.mark.parametrize("size", [0, 1, 7, 5_000])
def test_distinct_gives_what_numpy_unique_gives(size: int) -> None:
    values = np.random.default_rng(size).integers(0, max(1, size // 3), size)
    assert np.array_equal(distinct(values), np.unique(values))
