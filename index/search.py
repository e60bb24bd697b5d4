"""Ranking: dense evidence at three granularities and BM25, fused per paragraph, gated by relevance.

A candidate paragraph gets four scores: the cosine of its best sentence (questions are short
and usually answered by one sentence), the cosine of its best sentence read after its
document's title ("Armenia icc: Hij zei ..." gives a sentence the subject its pronouns
leave out), the cosine of the paragraph as a whole (context the sentence alone lacks), less half
its hubness (below), and the BM25 score of its best sentence (names, dates and numbers that
embeddings blur). Each is turned into a z-score and the four are added with equal weights, which
a search of the weights on the tune halves picks too. Which signals are fused and with what weights
is one ``Fusion``, the engine's being ``ENGINE_FUSION``; the ablation (``bench.quality.ablation``,
docs/quality.md) ranks with the same ``Fusion.fuse`` and other signals or weights.

The z-scores are taken against the head of each signal's own list, its ``FUSION_HEAD`` best
candidates, not against every candidate: a signal's spread over the whole corpus grows with the
paragraphs that have nothing to do with the question (and BM25's, mostly zeros, shrinks), so a
corpus of many articles gave one signal more say than another by how many unrelated paragraphs
it held. Normalising each ranked list by its top, as metasearch does (Montague and Aslam,
"Relevance Score Normalization for Metasearch", CIKM 2001), weighs the signals by how they
separate the contenders, the same in a small corpus and a large one; on a corpus of one short
article (fewer paragraphs than the head) nothing changes
(docs/decisions/ranking-among-articles.md has the figures).

Some whole-paragraph vectors are hubs: near questions on every subject, they come first for
questions other paragraphs answer. Cross-domain similarity local scaling (CSLS, Conneau et al.
2018) discounts a target by its mean similarity to its ``HUB_NEIGHBOURS`` nearest queries; here
the queries are the background sentences below, read as questions, so a paragraph's hubness is
fixed when the index is built and costs a question nothing.

Whether the corpus answers a question at all is a separate, calibrated decision about the
question, not about each passage: the question's best sentence similarity anywhere in the
corpus is compared with its similarities to a fixed set of ordinary news sentences on every
subject (``index/resources/background.txt``). The question's relevance is how many standard
deviations that best sentence lies above the background. Below ``min_relevance`` the question
is refused; below ``answer_relevance`` the passages come with a hedge; otherwise they answer
it. The bars are in units of the question's own background spread, so they carry over between
questions and corpora; they depend on the model, and ``CALIBRATED`` holds them per model.
The engine also hedges an answer whose best paragraph lacks the number or the time its question
asks for (``index.answertypes``), and leaves out a passage of another document than the first
that would be refused on its own (``without_unrelated``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from index.arrays import distinct
from index.encoders import E5_MODEL, USE_MODEL
from index.passages import rows_of
from index.stored import StoredIndex
from index.vectors import inner_products, one_thread

# (min_relevance, answer_relevance) per model, chosen on the tune halves of the evaluation sets
# by ``python -m bench.quality.calibrate`` (docs/quality.md, "How it answers"); other models get E5's.
CALIBRATED: dict[str, tuple[float, float]] = {
    E5_MODEL: (2.9, 3.85),
    USE_MODEL: (0.9, 3.4),
}

# CSLS's neighbourhood size, as published (``hubness``).
HUB_NEIGHBOURS = 10

# How many of its best candidate paragraphs each fused signal is standardised against (``head_zscore``).
FUSION_HEAD = 25

# Exhaustive search up to this many sentences; beyond it the best CANDIDATES of each kind.
EXHAUSTIVE_UP_TO = 4096
CANDIDATES = 256


@dataclass(frozen=True)
class Passage:
    """A returned paragraph: its exact text, where it comes from (its document's file name, title,
    date and link) and its best sentence."""

    text: str
    score: float
    source: str
    paragraph: int
    sentence: str
    relevance: float = field(default=0.0, compare=False)
    title: str = ""
    date: str | None = None
    url: str | None = None


# How sure the engine is that the corpus answers a question:
# - "answered": the passages answer it;
# - "hedged": the passages are related but do not clearly answer it ("the article does not
#   answer this directly; the closest passages:");
# - "refused": the corpus does not cover it; no passages.
Outcome = Literal["answered", "hedged", "refused"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "hedged", "refused")


@dataclass(frozen=True)
class Answer:
    """The passages for a question, best first, and whether they answer it (``outcome``).

    ``answered`` is True when there are passages at all, hedged or not.
    """

    question: str
    passages: tuple[Passage, ...]
    outcome: Outcome
    relevance: float = field(default=0.0, compare=False)  # of the question; see the module docstring

    @property
    def answered(self) -> bool:
        return self.outcome != "refused"

    @property
    def hedged(self) -> bool:
        return self.outcome == "hedged"

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON shape: question, answered, outcome and passages (text, score, source,
        paragraph, sentence)."""
        passages = []
        for passage in self.passages:
            item = asdict(passage)
            item.pop("relevance")
            item["score"] = round(passage.score, 4)
            passages.append(item)
        return {"question": self.question, "answered": self.answered, "outcome": self.outcome, "passages": passages}


def _standardised(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``values`` in standard deviations above the mean of ``among``, along the last axis; 0 where
    ``among`` does not spread."""
    if values.shape[-1] < 2:
        return np.zeros_like(values)
    spread = among.std(axis=-1, keepdims=True)
    flat = spread < 1e-9
    out = (values - among.mean(axis=-1, keepdims=True)) / np.where(flat, 1, spread)
    return np.where(flat, 0, out).astype(values.dtype, copy=False)


def zscore(values: np.ndarray) -> np.ndarray:
    """``values`` in standard deviations above their mean, along the last axis (one row of
    candidates per question)."""
    return _standardised(values, values)


def head_zscore(values: np.ndarray, head: int | None = FUSION_HEAD) -> np.ndarray:
    """``values`` in standard deviations above the mean of their ``head`` largest (all of them
    when there are no more, or ``head`` is None), along the last axis: how each candidate stands
    among the contenders."""
    if head is None or values.shape[-1] <= head:
        return zscore(values)
    return _standardised(values, np.partition(values, -head, axis=-1)[..., -head:])


# The signals ``rank`` computes for each candidate paragraph (see the module docstring).
SENTENCE = "sentence"  # its best sentence's cosine
TITLED = "titled sentence"  # its best sentence's cosine, read after its document's title
PARAGRAPH = "paragraph"  # its own cosine less half its hubness
BM25 = "bm25"  # its best sentence's BM25
SIGNALS = (SENTENCE, TITLED, PARAGRAPH, BM25)


@dataclass(frozen=True)
class Fusion:
    """How the candidates' signals make one score: each signal named in ``weights`` is turned into a
    z-score against its own ``head`` best candidates (every candidate when ``head`` is None), and
    the z-scores are added with their weights; a weight of 0 leaves its signal out."""

    weights: tuple[tuple[str, float], ...] = tuple((name, 1.0) for name in SIGNALS)
    head: int | None = FUSION_HEAD

    def __post_init__(self) -> None:
        names = [name for name, _ in self.weights]
        if len(set(names)) != len(names):
            raise ValueError(f"a signal is named twice in {names}")
        if not any(weight for _, weight in self.weights):
            raise ValueError("a fusion needs a signal with a weight other than 0")
        if self.head is not None and self.head < 1:
            raise ValueError(f"head must be at least 1, not {self.head}")

    @classmethod
    def equal(cls, *signals: str, head: int | None = FUSION_HEAD) -> Fusion:
        """``signals`` with a weight of 1 each."""
        return cls(tuple((name, 1.0) for name in signals), head)

    @property
    def signals(self) -> tuple[str, ...]:
        """The signals it adds (weight other than 0), in order."""
        return tuple(name for name, weight in self.weights if weight)

    def fuse(self, scores: Mapping[str, np.ndarray]) -> np.ndarray:
        """One score per candidate from ``scores`` (signal name → its score of each candidate, along
        the last axis: one row per question is fused row by row)."""
        missing = [name for name in self.signals if name not in scores]
        if missing:
            raise ValueError(f"no scores for the signals {missing}; there are {sorted(scores)}")
        parts = [weight * head_zscore(scores[name], self.head) for name, weight in self.weights if weight]
        return sum(parts[1:], start=parts[0])  # never empty (__post_init__)


# What the engine ranks by: its four signals, equal weights, each against its FUSION_HEAD best.
ENGINE_FUSION = Fusion()


def titled(title: str, sentence: str) -> str:
    """A sentence as the titled-sentence vectors embed it: after its document's title."""
    return f"{title}: {sentence}"


def hubness(vectors: np.ndarray, questions: np.ndarray) -> np.ndarray:
    """Each of ``vectors``' mean inner product with its ``HUB_NEIGHBOURS`` nearest ``questions``."""
    if vectors.shape[0] == 0 or questions.shape[0] == 0:
        return np.zeros(vectors.shape[0], dtype=np.float32)
    products = vectors @ questions.T
    nearest = min(HUB_NEIGHBOURS, products.shape[1])
    return np.partition(products, -nearest, axis=1)[:, -nearest:].mean(axis=1).astype(np.float32)


def calibrated_bars(model: str) -> tuple[float, float]:
    """``(min_relevance, answer_relevance)`` for ``model``."""
    return CALIBRATED.get(model, CALIBRATED[E5_MODEL])


def _lookup(rows: np.ndarray, known_rows: np.ndarray, known: np.ndarray, missing: float) -> np.ndarray:
    """The ``known`` value of each of ``rows`` (``known_rows`` ascending), ``missing`` elsewhere."""
    if known_rows.size == 0:
        return np.full(rows.shape, missing, dtype=np.float32)
    at = np.minimum(np.searchsorted(known_rows, rows), known_rows.size - 1)
    return np.where(known_rows[at] == rows, known[at], missing).astype(np.float32)


def _rows_of(index: StoredIndex, paragraphs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every sentence row of ``paragraphs`` (ascending), and where each paragraph's rows start
    among them. Rows are stored in paragraph order, so each paragraph is one range."""
    starts, ends = index.first_rows[paragraphs], index.first_rows[paragraphs + 1]
    lengths = ends - starts
    begins = np.cumsum(lengths) - lengths
    rows = np.repeat(starts - begins, lengths) + np.arange(int(lengths.sum()))
    return rows.astype(np.int64), begins


def without_unrelated(passages: Sequence[Passage], min_relevance: float) -> list[Passage]:
    """``passages`` less each one from another document than the first whose own best sentence
    is below ``min_relevance`` (the bar under which a question is refused): the closest paragraph
    of an article the question is not about tells the reader nothing, and filling the places with
    it reads as if it did."""
    if not passages:
        return []
    first = passages[0].source
    return [passages[0], *(p for p in passages[1:] if p.source == first or p.relevance >= min_relevance)]


def rank(
    index: StoredIndex, query: np.ndarray, question: str, *, k: int, fusion: Fusion = ENGINE_FUSION
) -> tuple[list[Passage], float]:
    """The top ``k`` paragraphs for a question (its vector ``query`` and its text, for BM25) by
    ``fusion`` of the ``SIGNALS``, and the question's relevance.

    The work per question follows the candidates, not the corpus: FAISS's and BM25's own top
    rows choose the candidate paragraphs, and only their sentence rows are scored. Up to
    ``EXHAUSTIVE_UP_TO`` sentences both searches are exhaustive; beyond, a candidate's sentence
    outside the ``CANDIDATES`` best of a kind gets that kind's lowest retrieved score (dense) or
    0 (BM25).
    """
    rows = index.vectors.ntotal
    if rows == 0:
        return [], -np.inf
    wanted = rows if rows <= EXHAUSTIVE_UP_TO else CANDIDATES
    with one_thread():
        scores, ids = index.vectors.search(query.reshape(1, -1), wanted)
    found = ids[0] >= 0
    dense_found, dense_ids = scores[0][found], ids[0][found].astype(np.int64)
    order = np.argsort(dense_ids)
    dense_ids, dense_found = dense_ids[order], dense_found[order]
    floor = float(dense_found.min()) if dense_found.size else 0.0
    lexical_ids, lexical_found = index.lexical.top(question, wanted)

    paragraphs = distinct(np.concatenate([index.sentence_paragraph[dense_ids], index.sentence_paragraph[lexical_ids]]))
    member_rows, begins = _rows_of(index, paragraphs)
    ends = np.append(begins[1:], len(member_rows))
    dense_rows = _lookup(member_rows, dense_ids, dense_found, floor)
    lexical_rows = _lookup(member_rows, lexical_ids, lexical_found, 0.0)

    # Each paragraph's best of each kind; every candidate paragraph has at least one row.
    best_dense = np.maximum.reduceat(dense_rows, begins)
    best_lexical = np.maximum.reduceat(lexical_rows, begins)
    best_titled = np.maximum.reduceat(inner_products(index.titled_vectors, member_rows, query), begins)
    whole = inner_products(index.paragraph_vectors, paragraphs, query) - index.paragraph_hubness[paragraphs] / 2
    fused = fusion.fuse({SENTENCE: best_dense, TITLED: best_titled, PARAGRAPH: whole, BM25: best_lexical})

    background = inner_products(index.background, np.arange(len(index.background)), query)
    spread = max(float(background.std()), 1e-6)
    relevance = (best_dense - float(background.mean())) / spread
    if k <= 0:
        return [], float(relevance.max())

    # Within a paragraph the sentence that carries the answer: same fusion, sentence scale.
    sentence_score = zscore(dense_rows) + zscore(lexical_rows)
    passages: list[Passage] = []
    for position in np.argsort(-fused, kind="stable")[:k]:
        paragraph = index.paragraphs[int(paragraphs[position])]
        mine = slice(begins[position], ends[position])
        best_row = member_rows[mine][np.argmax(sentence_score[mine])]
        sentences = rows_of(paragraph)
        document = index.documents_by_name[paragraph.source]
        passages.append(
            Passage(
                text=paragraph.text,
                score=float(fused[position]),
                source=paragraph.source,
                paragraph=paragraph.number,
                sentence=sentences[int(index.sentence_offset[best_row])],
                relevance=float(relevance[position]),
                title=document.title,
                date=document.date,
                url=document.url,
            )
        )
    return passages, float(relevance.max())
