"""Building one index version: the texts and every vector streamed into its folder, block by block.

A build never holds more than a block of vectors besides the FAISS index it makes: the
sentence, titled-sentence and paragraph vectors are encoded ``TEXT_BLOCK`` texts at a time and
appended to ``.npy`` files; BM25 is built and saved before FAISS, which then reads the sentence
vectors back a block at a time. A document the served index already holds unchanged (same
digest, see ``index.reuse``) has its rows copied from that index's files instead of encoded,
and so has the background (also from the encoder's previous build in this process, for a fresh
index folder); only new and changed documents reach the encoder. The default
model embeds each text on its own, so copied and encoded rows are the ones a full build gives;
hubness is always computed again, from the paragraph vectors, in the same blocks as a full build.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.arrays import BLOCK_ROWS, RowFile, RowWriter, save_rows
from index.background import background_texts
from index.documents import Corpus, Document
from index.encoders import BATCH, Encoder
from index.lexical import LexicalIndex, languages_by_source
from index.passages import PassageWriter, rows_of
from index.reuse import Reusable, Span, background_digest, document_digest
from index.search import hubness, titled
from index.stored import StoredIndex, new_manifest
from index.vectors import make_vector_index, write_vector_index

logger = logging.getLogger(__name__)

TEXT_BLOCK = BATCH * 64  # texts handed to the encoder per call: 4,096
SENTENCES_FILE = "sentences.npy"
# The background vectors each live encoder last built with, by their digest (see ``reuse``).
_BACKGROUND: weakref.WeakKeyDictionary[Encoder, dict[str, tuple[np.ndarray, np.ndarray]]] = weakref.WeakKeyDictionary()
_BACKGROUND_LOCK = threading.Lock()

# For one document and one vector file: its rows ``[start, stop)`` in the served file, or its texts.
Part = tuple[int, int] | list[str]


@dataclass(frozen=True)
class Prompts:
    """The prompts the encoder puts before questions and passages: the vectors depend on them."""

    query: str = ""
    document: str = ""


def write_build(
    folder: Path,
    corpus: Corpus,
    encoder: Encoder,
    *,
    model: str,
    prompts: Prompts = Prompts(),
    reuse: StoredIndex | None = None,
    progress: bool = False,
    check: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Write every file of an index of ``corpus`` but the manifest into ``folder``; the manifest.

    ``reuse`` (the index being served, built with the same model) gives the vectors of every
    document it holds unchanged; it is only read. ``check`` is called between blocks of
    texts and may raise to stop the build.
    """
    documents = corpus.documents
    served = Reusable.of(reuse)
    digests = [document_digest(d, model=model, prompt=prompts.document) for d in documents]
    spans = [served.span(digest) if served else None for digest in digests]
    passages = PassageWriter(folder)
    for document, digest in zip(documents, digests, strict=True):
        passages.add(document, digest)
    passages.close()
    rows = passages.sentences
    paragraph_count = sum(len(d.paragraphs) for d in documents)
    fresh = [d for d, span in zip(documents, spans, strict=True) if span is None]
    to_encode = sum(2 * sum(len(rows_of(p)) for p in d.paragraphs) + len(d.paragraphs) for d in fresh)
    from tqdm import tqdm

    with tqdm(total=to_encode, disable=not progress, unit="text", desc="Embedding") as bar:

        def encode(texts: list[str]) -> np.ndarray:
            if check is not None:
                check()
            vectors = encoder.documents(texts, check=check)
            bar.update(len(texts))
            return vectors

        def write(name: str, count: int, old: np.ndarray | None, texts: Callable[[Document], list[str]]) -> None:
            by_paragraph = name == "paragraphs.npy"
            parts = _parts(documents, spans, texts, by_paragraph=by_paragraph)
            _write_rows(folder / name, count, encoder.dimension, parts, old, encode)

        write(SENTENCES_FILE, rows, None if served is None else served.sentences, _sentence_rows)
        write("titled.npy", rows, None if served is None else served.titled, _titled_rows)
        write("paragraphs.npy", paragraph_count, None if served is None else served.paragraphs, _paragraph_texts)
    background = background_texts()
    key = background_digest(background, model=model, query_prompt=prompts.query, document_prompt=prompts.document)
    documents_side, questions = _background_vectors(key, background, encoder, served)
    save_rows(folder / "background.npy", documents_side)
    save_rows(folder / "background_queries.npy", questions)
    save_rows(folder / "hubness.npy", _hubness(RowFile(folder / "paragraphs.npy"), questions))
    if check is not None:
        check()
    paragraphs = corpus.paragraphs
    languages = languages_by_source(paragraphs)
    sentence_languages = (languages[p.source] for p in paragraphs for _ in rows_of(p))
    sentences = (sentence for p in paragraphs for sentence in rows_of(p))
    LexicalIndex.build(sentences, rows, sentence_languages).save(folder / "lexical")
    if check is not None:
        check()
    vectors = make_vector_index(RowFile(folder / SENTENCES_FILE))
    write_vector_index(vectors, folder / "vectors.faiss")
    del vectors
    return new_manifest(
        model=model,
        dimension=encoder.dimension,
        fingerprint=corpus.fingerprint,
        documents=documents,
        sentences=rows,
        background=key,
        embedded=len(fresh),
        reused=len(documents) - len(fresh),
    )


def _background_vectors(
    key: str, background: list[str], encoder: Encoder, served: Reusable | None
) -> tuple[np.ndarray, np.ndarray]:
    """The background's passage and question vectors for ``key``: from the served index or an
    earlier build by this encoder object when either made them as ``key`` says, else encoded now
    (the ~100 sentences twice: seconds on a 2-core machine, for every fresh index folder)."""
    kept = served.background_for(key) if served else None
    with _BACKGROUND_LOCK:
        try:
            made = _BACKGROUND.setdefault(encoder, {})
        except TypeError:  # an encoder that cannot be weakly referenced or hashed: nothing kept
            made = {}
        kept = kept or made.get(key)
    if kept is None:
        kept = encoder.documents(background), encoder.queries(background)
        for vectors in kept:
            vectors.setflags(write=False)
    with _BACKGROUND_LOCK:
        made.clear()  # one background per encoder: the newest
        made[key] = kept
    return kept


def _sentence_rows(document: Document) -> list[str]:
    return [row for p in document.paragraphs for row in rows_of(p)]


def _titled_rows(document: Document) -> list[str]:
    return [titled(document.title, row) for p in document.paragraphs for row in rows_of(p)]


def _paragraph_texts(document: Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def _parts(
    documents: list[Document],
    spans: list[Span | None],
    texts: Callable[[Document], list[str]],
    *,
    by_paragraph: bool,
) -> Iterator[Part]:
    """Each document's rows of one vector file: where the served file has them (its paragraph
    rows when ``by_paragraph``, else its sentence rows), or else the texts to encode."""
    for document, span in zip(documents, spans, strict=True):
        if span is None:
            yield texts(document)
        else:
            yield span.paragraphs if by_paragraph else span.rows


def _write_rows(
    path: Path,
    count: int,
    dimension: int,
    parts: Iterable[Part],
    old: np.ndarray | None,
    encode: Callable[[list[str]], np.ndarray],
) -> None:
    """Write ``count`` rows to ``path`` in order: copied from ``old`` or encoded, ``TEXT_BLOCK`` texts
    at a time (fewer just before a copied run: the encoded vectors do not depend on the batch)."""
    pending: list[str] = []
    with RowWriter(path, count, dimension) as out:
        for part in parts:
            if isinstance(part, list):
                for text in part:
                    pending.append(text)
                    if len(pending) == TEXT_BLOCK:
                        out.append(encode(pending))
                        pending = []
                continue
            if pending:
                out.append(encode(pending))
                pending = []
            assert old is not None  # a part is a span only when there is a served index
            for start in range(part[0], part[1], BLOCK_ROWS):
                out.append(old[start : min(part[1], start + BLOCK_ROWS)])
        if pending:
            out.append(encode(pending))


def _hubness(vectors: RowFile, questions: np.ndarray) -> np.ndarray:
    """``hubness`` of every row of ``vectors``, a block at a time."""
    out = np.zeros(len(vectors), dtype=np.float32)
    for start, block in vectors.blocks():
        out[start : start + len(block)] = hubness(block, questions)
    return out
