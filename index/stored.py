"""One stored index version: the files of its folder, its manifest, and reading and writing them.

Files of a version's folder (``index.store`` keeps the versions)::

    manifest.json       format, model, dimension, corpus fingerprint, counts, build time, the
                        background's digest and how many documents were embedded and reused
    documents.json, text.bin, *_text.npy, paragraph_info.npy, sentence_*.npy
                        documents, paragraphs and their sentence rows (``index.passages``)
    vectors.faiss       one unit vector per sentence
    sentences.npy       the same sentence vectors as float32 rows: what a later build reuses
                        (an approximate index keeps them inexactly or not at all)
    paragraphs.npy      one unit vector per whole paragraph, in paragraph order
    titled.npy          one unit vector per sentence read after its document's title
    hubness.npy         each paragraph vector's hubness (see ``index.search.hubness``)
    background.npy      vectors of the unrelated reference text (see ``index.search``)
    background_queries.npy  the same text embedded as questions: what ``hubness`` measures against
    lexical/            BM25 over the same sentences, each word's postings also best first

A loaded index maps its files rather than reading them (FAISS with ``IO_FLAG_MMAP``, numpy with
``mmap_mode="r"``, bm25s with ``mmap=True``, the texts through ``index.passages``): every worker
serving one version on a host shares its pages, and a process loads a million sentences in
well under a second. Every file is checked against the manifest when it is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.arrays import mapped
from index.documents import Document, Paragraph
from index.errors import EngineError
from index.lexical import LexicalIndex
from index.passages import PASSAGE_FILES, StoredTexts
from index.vectors import read_vector_index

FORMAT_VERSION = 10  # 2: BM25 tokens without diacritics; 3: paragraph vectors; 4: long paragraphs cut;
# 5: titled sentence vectors; 6: texts in one mapped file instead of passages.json; 7: BM25 postings
# best first (lexical/impact.npy); 8: paragraph hubness (hubness.npy); 9: BM25 stems each document
# in its own language; 10: sentences.npy, background_queries.npy and a digest per document, so a
# build reuses the vectors of unchanged documents (``index.reuse``)

INDEX_FILES = (
    "manifest.json",
    *PASSAGE_FILES,
    "vectors.faiss",
    "sentences.npy",
    "paragraphs.npy",
    "titled.npy",
    "hubness.npy",
    "background.npy",
    "background_queries.npy",
    "lexical",
)


class IndexFileError(EngineError):
    """An index on disk is missing, incomplete, corrupt or built for something else."""


@dataclass
class StoredIndex:
    """Everything a search needs, mapped from one version's folder."""

    manifest: dict[str, Any]
    documents: list[Document]
    paragraphs: Sequence[Paragraph]
    sentence_paragraph: np.ndarray  # row → index into ``paragraphs``
    sentence_offset: np.ndarray  # row → sentence number within its paragraph
    first_rows: np.ndarray  # paragraph i's sentence rows are first_rows[i]:first_rows[i + 1]
    vectors: faiss.Index
    paragraph_vectors: np.ndarray  # row → unit vector of ``paragraphs[row]`` as a whole
    titled_vectors: np.ndarray  # sentence row → unit vector of the sentence after its document's title
    paragraph_hubness: np.ndarray  # row → hubness of ``paragraph_vectors[row]`` (``index.search.hubness``)
    background: np.ndarray
    lexical: LexicalIndex
    version: str = ""
    # What a later build reuses (``index.reuse``), mapped: nothing is read unless a build asks.
    sentence_vectors: np.ndarray | None = None  # row → the float32 vector ``vectors`` was built from
    background_queries: np.ndarray | None = None  # the background text embedded as questions
    digests: tuple[str, ...] = ()  # document → ``index.reuse.document_digest`` ("" when unknown)

    @cached_property
    def documents_by_name(self) -> dict[str, Document]:
        return {document.name: document for document in self.documents}


# Writes every file but the manifest into a new, private folder and returns the manifest.
Build = Callable[[Path], dict[str, Any]]


def write_index(folder: Path, build: Build) -> None:
    """Write an index into ``folder`` (which must be new and private) with ``build``, the manifest last."""
    manifest = build(folder)
    # The manifest goes last: a directory without one was never finished.
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")


def read_index(folder: Path) -> StoredIndex:
    """Load the index in ``folder``, checking every file against the manifest.

    The format comes first: an index of an older format lacks files this one has.
    """
    if not (folder / "manifest.json").exists():
        raise IndexFileError(f"index file missing: manifest.json in {folder.name}")
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("the manifest is not a JSON object")
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"index in {folder.name} is unreadable (manifest.json: {exc})") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexFileError(f"index format {manifest.get('format')!r} is not {FORMAT_VERSION}")
    for name in INDEX_FILES:
        if not (folder / name).exists():
            raise IndexFileError(f"index file missing: {name} in {folder.name}")
    try:
        texts = StoredTexts(folder)
        documents, paragraphs = texts.documents, texts.paragraphs
        owner, offset, first_rows = texts.sentence_paragraph, texts.sentence_offset, texts.first_rows
        vectors = read_vector_index(folder / "vectors.faiss")
        paragraph_vectors = mapped(folder / "paragraphs.npy")
        titled_vectors = mapped(folder / "titled.npy")
        paragraph_hubness = mapped(folder / "hubness.npy")
        background = np.load(folder / "background.npy", allow_pickle=False)
        background_queries = mapped(folder / "background_queries.npy")
        sentence_vectors = mapped(folder / "sentences.npy")
        lexical = LexicalIndex.load(folder / "lexical", len(owner))
    except IndexFileError:
        raise
    except FileNotFoundError as exc:
        raise IndexFileError(f"index file missing: {Path(exc.filename or '?').name}") from exc
    except Exception as exc:  # JSON, numpy and FAISS each have their own way of saying "corrupt"
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise IndexFileError(f"index in {folder.name} is unreadable ({detail[:200]})") from exc
    expected = (manifest.get("sentences"), manifest.get("dimension"))
    if (
        (vectors.ntotal, vectors.d) != expected
        or len(paragraphs) != manifest.get("paragraphs")
        or len(owner) != vectors.ntotal
    ):
        raise IndexFileError(f"index in {folder.name} does not match its manifest")
    if background.ndim != 2 or background.shape[1] != vectors.d:
        raise IndexFileError(f"background vectors in {folder.name} have the wrong shape")
    if paragraph_vectors.shape != (len(paragraphs), vectors.d):
        raise IndexFileError(f"paragraph vectors in {folder.name} have the wrong shape")
    if titled_vectors.shape != (vectors.ntotal, vectors.d):
        raise IndexFileError(f"titled sentence vectors in {folder.name} have the wrong shape")
    if paragraph_hubness.shape != (len(paragraphs),):
        raise IndexFileError(f"paragraph hubness in {folder.name} has the wrong shape")
    if sentence_vectors.shape != (vectors.ntotal, vectors.d) or sentence_vectors.dtype != np.float32:
        raise IndexFileError(f"sentence vectors in {folder.name} have the wrong shape")
    if background_queries.shape != background.shape:
        raise IndexFileError(f"background question vectors in {folder.name} have the wrong shape")
    return StoredIndex(
        manifest,
        documents,
        paragraphs,
        owner,
        offset,
        first_rows,
        vectors,
        paragraph_vectors,
        titled_vectors,
        paragraph_hubness,
        background,
        lexical,
        folder.name,
        sentence_vectors,
        background_queries,
        tuple(texts.digests),
    )


def new_manifest(
    *,
    model: str,
    dimension: int,
    fingerprint: str,
    documents: list[Document],
    sentences: int,
    background: str = "",
    embedded: int = 0,
    reused: int = 0,
) -> dict[str, Any]:
    """The manifest of a new index; ``background`` is its ``index.reuse.background_digest``,
    ``embedded`` and ``reused`` count the documents the build encoded and took over."""
    return {
        "format": FORMAT_VERSION,
        "model": model,
        "dimension": dimension,
        "corpus_fingerprint": fingerprint,
        "documents": len(documents),
        "paragraphs": sum(len(d.paragraphs) for d in documents),
        "sentences": sentences,
        "background_digest": background,
        "embedded": embedded,
        "reused": reused,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
