"""BM25 over sentences, for the names, dates and numbers that embeddings blur.

Each document's words are stemmed with the Snowball stemmer of its own language, Dutch or English
(``language_of``), and a question's words with both (``question_tokens``): a question may come in
either language, and a stem that the corpus does not hold adds nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from index.arrays import distinct, mapped
from index.documents import Paragraph

Language = Literal["dutch", "english"]  # Snowball's names

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_DUTCH) | frozenset(STOPWORDS_EN)
_STEMMERS: dict[Language, Stemmer.Stemmer] = {"dutch": Stemmer.Stemmer("dutch"), "english": Stemmer.Stemmer("english")}
# Stopwords of one language only ("het", "niet"; "the", "not"): what tells a text's language.
_MARKERS: dict[Language, frozenset[str]] = {
    "dutch": frozenset(STOPWORDS_DUTCH) - frozenset(STOPWORDS_EN),
    "english": frozenset(STOPWORDS_EN) - frozenset(STOPWORDS_DUTCH),
}
LANGUAGE_SAMPLE = 20_000  # characters of a document read to tell its language
IMPACT = "impact.npy"
WORD_ROWS = 2048  # candidate rows a query word gives at most (see ``LexicalIndex.top``)


def _fold(word: str) -> str:
    """``armenië`` → ``armenie``: people often type names without their diacritics."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def language_of(texts: Iterable[str]) -> Language:
    """English when the first ``LANGUAGE_SAMPLE`` characters of ``texts`` (a document's paragraphs)
    have more English-only than Dutch-only stopwords, else Dutch."""
    counts: dict[Language, int] = {"dutch": 0, "english": 0}
    left = LANGUAGE_SAMPLE
    for text in texts:
        words = _WORD.findall(text[:left].lower())
        for language, markers in _MARKERS.items():
            counts[language] += sum(word in markers for word in words)
        left -= len(text)
        if left <= 0:
            break
    return "english" if counts["english"] > counts["dutch"] else "dutch"


def languages_by_source(paragraphs: Iterable[Paragraph]) -> dict[str, Language]:
    """Each document's language (``language_of`` its paragraphs), by file name."""
    texts: dict[str, list[str]] = {}
    for paragraph in paragraphs:
        texts.setdefault(paragraph.source, []).append(paragraph.text)
    return {source: language_of(document) for source, document in texts.items()}


def tokenize(text: str, language: Language = "dutch") -> list[str]:
    """Lower-case words without Dutch or English stopwords, stemmed with ``language``'s Snowball
    stemmer, diacritics removed."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return [_fold(w) for w in _STEMMERS[language].stemWords(words)]


def question_tokens(question: str) -> list[str]:
    """A question's words stemmed as Dutch and as English, each distinct stem once."""
    return list(dict.fromkeys(tokenize(question, "dutch") + tokenize(question, "english")))


class LexicalIndex:
    """A BM25 index whose rows line up with the dense index's sentence rows."""

    def __init__(self, model: bm25s.BM25, size: int, impact: np.ndarray | None = None) -> None:
        self._model = model
        self.size = size
        self._impact = impact if impact is not None else _impact_order(model)

    @classmethod
    def build(cls, texts: Iterable[str], size: int, languages: Iterable[Language]) -> LexicalIndex:
        """BM25 over ``texts``, ``size`` of them, each stemmed in its language (``languages``, in
        the same order)."""
        model = bm25s.BM25()
        pairs = zip(texts, languages, strict=True)
        model.index([tokenize(text, language) for text, language in pairs], show_progress=False)
        return cls(model, size)

    def _known(self, query: str) -> list[str]:
        vocabulary = self._model.vocab_dict
        return [t for t in question_tokens(query) if t in vocabulary]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query``; all zeros when no query word is in the vocabulary."""
        tokens = self._known(query)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)

    def top(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows among the ``k`` best for ``query`` whose score is above 0, ascending, and their
        scores, found among each query word's ``WORD_ROWS`` best rows.

        The cost follows those rows, not the corpus: bm25s's own top-k adds every posting of
        every query word into a score per row and selects over all rows (55 ms a question at a
        million sentences). Here each word's postings, stored best first (``impact.npy``), give
        at most ``WORD_ROWS`` candidate rows; a candidate's score is its full BM25 score, the
        sum bm25s makes, in the same order. Exact whenever no query word is in more than
        ``WORD_ROWS`` rows (the article: it has fewer rows); beyond, a row that is not among
        any word's best is missed.
        """
        tokens = self._known(query)
        if not tokens or k <= 0 or self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        matrix = self._model.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in self._model.get_tokens_ids(tokens)]
        best = [indices[self._impact[start : min(stop, start + WORD_ROWS)] + start] for start, stop in spans]
        rows = distinct(np.concatenate(best)).astype(np.int64)
        scores = np.zeros(len(rows), dtype=np.float32)
        for start, stop in spans:  # a word's rows are ascending within its postings
            if stop == start:
                continue
            posting = indices[start:stop]
            at = np.minimum(np.searchsorted(posting, rows), len(posting) - 1)
            found = posting[at] == rows
            scores[found] += data[start:stop][at[found]]
        keep = scores > 0
        rows, scores = rows[keep], scores[keep]
        if len(rows) > k:
            chosen = np.sort(np.argpartition(-scores, k - 1)[:k])
            rows, scores = rows[chosen], scores[chosen]
        return rows, scores

    def save(self, folder: Path) -> None:
        """bm25s's files, and ``impact.npy``: each word's postings ordered best first (see ``top``)."""
        self._model.save(str(folder), show_progress=False, allow_pickle=False)
        np.save(folder / IMPACT, self._impact, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        # Mapped: the score matrix's pages are shared by every process serving this index.
        model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False, allow_pickle=False)
        # Plain arrays over the same mappings: np.memmap rebuilds itself on every slice.
        for part in ("data", "indices", "indptr"):
            model.scores[part] = np.asarray(model.scores[part])
        impact = mapped(folder / IMPACT)
        if impact.shape != np.shape(model.scores["data"]):
            raise ValueError(f"{IMPACT} does not match the BM25 scores")
        return cls(model, size, impact)


def _impact_order(model: bm25s.BM25) -> np.ndarray:
    """Each word's postings best first, as places within the word's postings (see ``LexicalIndex.top``)."""
    matrix = model.scores
    data, indptr = np.asarray(matrix["data"]), np.asarray(matrix["indptr"])
    word = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    order = np.lexsort((-data, word))  # by word, then best first; ties by row (a stable sort)
    within = order - indptr[word]
    return within.astype(np.int32 if len(data) < 2**31 else np.int64)
