"""What a new build may take over from the index being served instead of encoding it again.

A document's vectors depend on nothing but the texts made from it (each paragraph, each of
its sentence rows, each row after the document's title), the model and its passage prompt:
the default model embeds every text on its own, so its vector does not depend on the other
texts of its batch (``tests/index/test_incremental.py`` checks it, bit for bit).
``document_digest`` hashes exactly those; each document's digest is stored in
``documents.json``, and a build copies the rows of every document whose digest the served
index holds rather than encoding them again. The background vectors are taken over the
same way when ``background_digest`` (model, both prompts, the background text) matches.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

import numpy as np

from index.documents import Document
from index.encoders import MAX_TEXT_CHARS
from index.passages import rows_of
from index.search import titled
from index.stored import StoredIndex

logger = logging.getLogger(__name__)

DIGEST_VERSION = 1  # bumped when what a vector depends on changes in a way the texts do not show


def document_digest(document: Document, *, model: str, prompt: str) -> str:
    """A hash of every text ``document``'s vectors are made from, with the model and passage prompt."""
    digest = hashlib.sha256()
    digest.update(json.dumps([DIGEST_VERSION, model, prompt, MAX_TEXT_CHARS]).encode("utf-8"))
    for paragraph in document.paragraphs:
        rows = rows_of(paragraph)
        texts = [paragraph.text, list(rows), [titled(document.title, row) for row in rows]]
        digest.update(b"\n" + json.dumps(texts, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def background_digest(texts: list[str], *, model: str, query_prompt: str, document_prompt: str) -> str:
    """A hash of what the background vectors depend on: the text, the model and both prompts."""
    data = json.dumps([DIGEST_VERSION, model, query_prompt, document_prompt, MAX_TEXT_CHARS, texts])
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Span:
    """Where one document's rows are in the served index: paragraphs and sentence rows, ``[start, stop)``."""

    paragraphs: tuple[int, int]
    rows: tuple[int, int]


class Reusable:
    """The served index's vectors by document digest, read from its mapped files, never written."""

    def __init__(self, index: StoredIndex) -> None:
        if index.sentence_vectors is None or index.background_queries is None:
            raise ValueError("the index keeps no sentence or background question vectors")
        if len(index.digests) != len(index.documents):
            raise ValueError("the index has no digest for each document")
        self.sentences = index.sentence_vectors
        self.titled = index.titled_vectors
        self.paragraphs = index.paragraph_vectors
        self.background = index.background
        self.background_queries = index.background_queries
        self.background_digest = str(index.manifest.get("background_digest") or "")
        first_rows = index.first_rows
        if len(first_rows) != len(self.paragraphs) + 1 or int(first_rows[-1]) != len(self.sentences):
            raise ValueError("the sentence rows do not match the paragraphs")
        self._spans: dict[str, Span] = {}
        start = 0
        for document, digest in zip(index.documents, index.digests, strict=True):
            stop = start + len(document.paragraphs)
            if digest:
                rows = (int(first_rows[start]), int(first_rows[stop]))
                self._spans.setdefault(digest, Span((start, stop), rows))
            start = stop

    @classmethod
    def of(cls, index: StoredIndex | None) -> Reusable | None:
        """What ``index`` offers, or None (logged) when it offers nothing: a full build then."""
        if index is None:
            return None
        try:
            return cls(index)
        except Exception as exc:  # a damaged index is no reason to fail the build
            logger.warning("not reusing index %s (%s): embedding every document", index.version, exc)
            return None

    def span(self, digest: str) -> Span | None:
        return self._spans.get(digest)

    def background_for(self, digest: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(background, background_queries)`` when they were made as ``digest`` says, else None."""
        if digest and digest == self.background_digest:
            return np.array(self.background), np.array(self.background_queries)
        return None
