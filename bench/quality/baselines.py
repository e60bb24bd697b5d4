"""The two baselines the engine must beat, over whole paragraphs: BM25 alone and the dense model alone.

They rank every paragraph and never refuse, so only their ranking figures mean anything. Both
use the engine's own pieces (its tokenizer, its encoder), so a difference comes from how the
engine combines them, not from different ingredients.
"""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from bench.quality.data import Question
from bench.quality.scoring import Result, rank_of_gold
from index import Paragraph
from index.encoders import Encoder
from index.lexical import Language, languages_by_source, question_tokens, tokenize

BM25 = "bm25"
DENSE = "dense"


def languages(paragraphs: Sequence[Paragraph]) -> list[Language]:
    """The language each paragraph is stemmed in: its document's, as the engine's index tells it."""
    found = languages_by_source(paragraphs)
    return [found[paragraph.source] for paragraph in paragraphs]


def bm25_scores(paragraphs: Sequence[Paragraph], questions: Sequence[str]) -> np.ndarray:
    """BM25 (``bm25s``, the engine's tokenizer) of every question (rows) against every paragraph."""
    documents = [tokenize(p.text, language) for p, language in zip(paragraphs, languages(paragraphs), strict=True)]
    return bm25_matrix(documents, [question_tokens(question) for question in questions])


def bm25_matrix(documents: Sequence[list[str]], questions: Sequence[list[str]]) -> np.ndarray:
    """BM25 of every tokenized question (rows) against every tokenized document."""
    model = bm25s.BM25()
    model.index(list(documents), show_progress=False)
    vocabulary = model.vocab_dict
    scores = np.zeros((len(questions), len(documents)), dtype=np.float32)
    for row, tokens in enumerate(questions):
        known = [token for token in tokens if token in vocabulary]
        if known:
            scores[row] = model.get_scores(known)
    return scores


def dense_scores(
    encoder: Encoder, paragraphs: Sequence[str], questions: Sequence[str], vectors: np.ndarray | None = None
) -> np.ndarray:
    """Cosine of every question (rows) with every whole paragraph, one vector per paragraph
    (``vectors``, when the engine's index holds them already: the same encoder, the same texts)."""
    passages = encoder.documents(list(paragraphs)) if vectors is None else vectors
    queries = encoder.queries(list(questions))
    return np.asarray(queries @ passages.T, dtype=np.float32)


def ranked_results(
    method: str, questions: Sequence[Question], paragraphs: Sequence[Paragraph], scores: np.ndarray
) -> list[Result]:
    """A Result per answerable question from its row of ``scores`` over ``paragraphs``."""
    if scores.shape != (len(questions), len(paragraphs)):
        raise ValueError(f"scores of shape {scores.shape} for {len(questions)} questions, {len(paragraphs)} paragraphs")
    results = []
    for question, row in zip(questions, scores, strict=True):
        gold = question.gold
        if gold is None:
            raise ValueError("baselines rank answerable questions only")
        mask = np.array([gold.matches(p.source, p.number, p.text) for p in paragraphs], dtype=bool)
        first = paragraphs[int(np.argmax(row))].source if len(paragraphs) else None
        results.append(Result(question, method, rank_of_gold(row, mask), first=first))
    return results


def baselines(
    encoder: Encoder,
    paragraphs: Sequence[Paragraph],
    questions: Sequence[Question],
    vectors: np.ndarray | None = None,
) -> list[Result]:
    """BM25 and dense results for the answerable ``questions`` over ``paragraphs`` (their
    ``vectors``, if known)."""
    answerable = [q for q in questions if q.kind == "answerable"]
    if not answerable:
        return []
    texts = [p.text for p in paragraphs]
    asked = [q.text for q in answerable]
    return [
        *ranked_results(BM25, answerable, paragraphs, bm25_scores(paragraphs, asked)),
        *ranked_results(DENSE, answerable, paragraphs, dense_scores(encoder, texts, asked, vectors)),
    ]
