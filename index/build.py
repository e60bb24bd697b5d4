"""Building one index version: the texts and every vector streamed into its folder, block by block.

A build never holds more than a block of vectors besides the FAISS index it makes: the
sentence, titled-sentence and paragraph vectors are encoded ``TEXT_BLOCK`` texts at a time and
appended to ``.npy`` files; BM25 is built and saved before FAISS, which then reads the sentence
vectors back a block at a time. The blocks are a multiple of the encoder's batch, so the
vectors are the ones embedding every text in one call gives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from index.arrays import RowFile, RowWriter, save_rows
from index.background import background_texts
from index.documents import Corpus, Paragraph
from index.encoders import BATCH, Encoder
from index.lexical import LexicalIndex, languages_by_source
from index.passages import PassageWriter, rows_of
from index.search import hubness, titled
from index.store import new_manifest
from index.vectors import make_vector_index, write_vector_index

logger = logging.getLogger(__name__)

TEXT_BLOCK = BATCH * 64  # texts handed to the encoder per call: 4,096
SENTENCES_FILE = ".sentences.npy"  # the sentence vectors until FAISS has them; removed


def write_build(
    folder: Path,
    corpus: Corpus,
    encoder: Encoder,
    *,
    model: str,
    progress: bool = False,
    check: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Write every file of an index of ``corpus`` but the manifest into ``folder``; the manifest.

    ``check`` is called between blocks of texts and may raise to stop the build.
    """
    paragraphs = corpus.paragraphs
    passages = PassageWriter(folder)
    for document in corpus.documents:
        passages.add(document)
    passages.close()
    rows = passages.sentences
    titles = {document.name: document.title for document in corpus.documents}
    from tqdm import tqdm

    with tqdm(total=2 * rows + len(paragraphs), disable=not progress, unit="text", desc="Embedding") as bar:

        def encode(path: Path, texts: Iterable[str], count: int) -> None:
            with RowWriter(path, count, encoder.dimension) as out:
                for block in _blocks(texts, TEXT_BLOCK):
                    if check is not None:
                        check()
                    out.append(encoder.documents(block, check=check))
                    bar.update(len(block))

        encode(folder / SENTENCES_FILE, _sentences(paragraphs), rows)
        encode(folder / "titled.npy", (titled(titles[p.source], s) for p in paragraphs for s in rows_of(p)), rows)
        encode(folder / "paragraphs.npy", (p.text for p in paragraphs), len(paragraphs))
    background = background_texts()
    save_rows(folder / "background.npy", encoder.documents(background))
    save_rows(folder / "hubness.npy", _hubness(RowFile(folder / "paragraphs.npy"), encoder.queries(background)))
    if check is not None:
        check()
    languages = languages_by_source(paragraphs)
    sentence_languages = (languages[p.source] for p in paragraphs for _ in rows_of(p))
    LexicalIndex.build(_sentences(paragraphs), rows, sentence_languages).save(folder / "lexical")
    if check is not None:
        check()
    vectors = make_vector_index(RowFile(folder / SENTENCES_FILE))
    write_vector_index(vectors, folder / "vectors.faiss")
    del vectors
    (folder / SENTENCES_FILE).unlink()
    return new_manifest(
        model=model,
        dimension=encoder.dimension,
        fingerprint=corpus.fingerprint,
        documents=corpus.documents,
        sentences=rows,
    )


def _hubness(vectors: RowFile, questions: np.ndarray) -> np.ndarray:
    """``hubness`` of every row of ``vectors``, a block at a time."""
    out = np.zeros(len(vectors), dtype=np.float32)
    for start, block in vectors.blocks():
        out[start : start + len(block)] = hubness(block, questions)
    return out


def _sentences(paragraphs: list[Paragraph]) -> Iterator[str]:
    return (sentence for paragraph in paragraphs for sentence in rows_of(paragraph))


def _blocks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    block: list[str] = []
    for text in texts:
        block.append(text)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block
