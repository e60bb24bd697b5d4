"""Fusion of the ranking signals: the engine's default is the sum it always was, to the bit, and a
matrix of questions fuses row by row as one question does (the ablation's case)."""

from __future__ import annotations

import numpy as np
import pytest

from index import Engine
from index.search import (
    BM25,
    ENGINE_FUSION,
    FUSION_HEAD,
    PARAGRAPH,
    SENTENCE,
    SIGNALS,
    TITLED,
    Fusion,
    head_zscore,
    rank,
)


def _zscore_before(values: np.ndarray) -> np.ndarray:
    """The engine's z-score before fusion took a ``Fusion``, word for word."""
    spread = values.std()
    if values.size < 2 or spread < 1e-9:
        return np.zeros_like(values)
    return (values - values.mean()) / spread


def _head_zscore_before(values: np.ndarray, head: int = FUSION_HEAD) -> np.ndarray:
    if values.size <= head:
        return _zscore_before(values)
    top = np.partition(values, -head)[-head:]
    spread = top.std()
    if spread < 1e-9:
        return np.zeros_like(values)
    return (values - top.mean()) / spread


def _fused_before(scores: dict[str, np.ndarray]) -> np.ndarray:
    """``rank``'s fused score before: the four head z-scores added in this order."""
    return (
        _head_zscore_before(scores[SENTENCE])
        + _head_zscore_before(scores[TITLED])
        + _head_zscore_before(scores[PARAGRAPH])
        + _head_zscore_before(scores[BM25])
    )


def _signals(rng: np.random.Generator, candidates: int) -> dict[str, np.ndarray]:
    """Scores shaped like the engine's: cosines, a hubness-discounted cosine, BM25 mostly zero;
    now and then ties, a constant signal, or one candidate."""
    cosine = rng.uniform(0.6, 0.95, candidates).astype(np.float32)
    if rng.random() < 0.2:
        cosine = np.round(cosine, 2)  # ties
    titled = (cosine + rng.normal(0, 0.02, candidates)).astype(np.float32)
    whole = (rng.uniform(0.6, 0.9, candidates) - rng.uniform(0.7, 0.8, candidates) / 2).astype(np.float32)
    lexical = np.where(rng.random(candidates) < 0.8, 0.0, rng.exponential(4.0, candidates)).astype(np.float32)
    if rng.random() < 0.1:
        lexical = np.zeros(candidates, np.float32)  # no question word in the corpus
    return {SENTENCE: cosine, TITLED: titled, PARAGRAPH: whole, BM25: lexical}


def test_the_engines_fusion_is_the_sum_it_was_to_the_bit() -> None:
    rng = np.random.default_rng(2024)
    for trial in range(600):
        sizes = [1, 2, 3, FUSION_HEAD - 1, FUSION_HEAD, FUSION_HEAD + 1, int(rng.integers(4, 400))]
        candidates = sizes[int(rng.integers(len(sizes)))]
        scores = _signals(rng, candidates)
        fused = ENGINE_FUSION.fuse(scores)
        before = _fused_before(scores)
        assert fused.dtype == before.dtype == np.float32
        assert np.array_equal(fused, before), (trial, candidates)


def test_a_row_per_question_fuses_as_each_question_alone() -> None:
    rng = np.random.default_rng(7)
    rows = [_signals(rng, 60) for _ in range(12)]
    rows[3] = {name: np.zeros(60, np.float32) for name in SIGNALS}  # a question nothing matches
    matrix = {name: np.stack([row[name] for row in rows]) for name in SIGNALS}
    weighted = Fusion(((SENTENCE, 0.5), (TITLED, 0.0), (PARAGRAPH, 1.0), (BM25, 0.5)), head=None)
    for fusion in (ENGINE_FUSION, weighted, Fusion.equal(SENTENCE, BM25, head=10)):
        together = fusion.fuse(matrix)
        assert together.shape == (12, 60)
        for i, row in enumerate(rows):
            np.testing.assert_allclose(together[i], fusion.fuse(row), rtol=1e-6, atol=1e-6)
    assert not ENGINE_FUSION.fuse(matrix)[3].any()


def test_weights_scale_and_leave_out_signals() -> None:
    scores = _signals(np.random.default_rng(3), 80)
    weighted = Fusion(((SENTENCE, 0.5), (TITLED, 0.0), (BM25, 2.0)))
    assert weighted.signals == (SENTENCE, BM25)
    expected = 0.5 * head_zscore(scores[SENTENCE]) + 2.0 * head_zscore(scores[BM25])
    np.testing.assert_allclose(weighted.fuse(scores), expected, rtol=1e-6)
    everyone = Fusion.equal(SENTENCE, head=None).fuse(scores)
    np.testing.assert_allclose(everyone, (scores[SENTENCE] - scores[SENTENCE].mean()) / scores[SENTENCE].std())
    assert ENGINE_FUSION == Fusion() == Fusion.equal(*SIGNALS)


def test_a_fusion_names_signals_it_can_score() -> None:
    with pytest.raises(ValueError, match="twice"):
        Fusion.equal(SENTENCE, SENTENCE)
    with pytest.raises(ValueError, match="other than 0"):
        Fusion(((SENTENCE, 0.0),))
    with pytest.raises(ValueError, match="head"):
        Fusion(head=0)
    with pytest.raises(ValueError, match="window"):
        Fusion.equal(SENTENCE, "window").fuse({SENTENCE: np.ones(3, np.float32)})


def test_rank_orders_the_article_by_the_fusion_it_is_given(article_engine: Engine) -> None:
    index, question = article_engine.index, "Wie is Maria Lvova-Belova?"
    query = article_engine.encoder.queries([question])[0]
    default, relevance = rank(index, query, question, k=3)
    assert (default, relevance) == rank(index, query, question, k=3, fusion=ENGINE_FUSION)
    _, best = index.vectors.search(query.reshape(1, -1), 1)
    by_sentence, same_relevance = rank(index, query, question, k=3, fusion=Fusion.equal(SENTENCE))
    assert same_relevance == relevance  # the relevance bar does not depend on the fusion
    assert by_sentence[0].paragraph == index.paragraphs[int(index.sentence_paragraph[best[0][0]])].number
    with pytest.raises(ValueError, match="window"):
        rank(index, query, question, k=3, fusion=Fusion.equal(SENTENCE, "window"))
