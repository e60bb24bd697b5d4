"""BM25 over sentences, for the names, dates and numbers that embeddings blur."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)
_STEMMER = Stemmer.Stemmer("dutch")


def _fold(word: str) -> str:
    """``armenië`` → ``armenie``: people often type names without their diacritics."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """Lower-case words without Dutch or English stopwords, stemmed with the Dutch Snowball stemmer,
    diacritics removed."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return [_fold(w) for w in _STEMMER.stemWords(words)]


class LexicalIndex:
    """A BM25 index whose rows line up with the dense index's sentence rows."""

    def __init__(self, model: bm25s.BM25, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: Iterable[str], size: int) -> LexicalIndex:
        """BM25 over ``texts``, ``size`` of them."""
        model = bm25s.BM25()
        model.index([tokenize(t) for t in texts], show_progress=False)
        return cls(model, size)

    def _known(self, query: str) -> list[str]:
        vocabulary = self._model.vocab_dict
        return [t for t in tokenize(query) if t in vocabulary]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query``; all zeros when no query word is in the vocabulary."""
        tokens = self._known(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows among the ``k`` best for ``query`` whose score is above 0, ascending, and
        their scores (bm25s's own top-k retrieval)."""
        tokens = self._known(query)
        if not tokens or k <= 0 or self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows, scores = self._model.retrieve([tokens], k=min(k, self.size), sorted=False, show_progress=False)
        rows, scores = np.asarray(rows[0], dtype=np.int64), np.asarray(scores[0], dtype=np.float32)
        keep = scores > 0
        order = np.argsort(rows[keep])
        return rows[keep][order], scores[keep][order]

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        # Mapped: the score matrix's pages are shared by every process serving this index.
        model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False, allow_pickle=False)
        return cls(model, size)
