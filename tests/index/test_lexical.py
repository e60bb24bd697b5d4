"""BM25's top rows: each query word's best postings, scored in full."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import lexical
from index.lexical import LexicalIndex

TEXTS = [
    "Armenië sluit zich aan bij het Strafhof.",
    "Het Strafhof in Den Haag vaardigde een arrestatiebevel uit tegen Poetin.",
    "Poetin bezoekt Armenië niet meer.",
    "Rusland noemt de stap van Armenië vijandig.",
    "De trein naar Jerevan rijdt vanavond niet.",
    "Armenië, Armenië en nog eens Armenië: het parlement stemde in.",
]


def test_top_rows_are_the_best_by_the_full_bm25_score() -> None:
    index = LexicalIndex.build(TEXTS, len(TEXTS), ["dutch"] * len(TEXTS))
    for question in ("Wat doet Armenië bij het Strafhof?", "Poetin in Jerevan", "trein"):
        full = index.scores(question)
        rows, scores = index.top(question, len(TEXTS))
        assert list(rows) == list(np.flatnonzero(full > 0))
        assert np.array_equal(scores, full[rows])
        rows, scores = index.top(question, 2)
        assert len(rows) == min(2, int((full > 0).sum()))
        assert sorted(scores, reverse=True) == sorted(full, reverse=True)[: len(rows)]


def test_a_word_in_many_rows_gives_only_its_best_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond WORD_ROWS rows a word gives its best: the cost of a question follows WORD_ROWS, not the corpus."""
    monkeypatch.setattr(lexical, "WORD_ROWS", 2)
    index = LexicalIndex.build(TEXTS, len(TEXTS), ["dutch"] * len(TEXTS))
    full = index.scores("Armenië")
    rows, scores = index.top("Armenië", len(TEXTS))
    assert len(rows) == 2 and int((full > 0).sum()) == 4
    assert np.array_equal(scores, full[rows])
    assert sorted(scores) == sorted(full)[-2:]


def test_saved_postings_order_is_mapped_and_required(tmp_path: Path) -> None:
    index = LexicalIndex.build(TEXTS, len(TEXTS), ["dutch"] * len(TEXTS))
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical", len(TEXTS))
    question = "Poetin en het Strafhof"
    assert all(np.array_equal(a, b) for a, b in zip(loaded.top(question, 3), index.top(question, 3), strict=True))
    assert str(tmp_path / "lexical" / lexical.IMPACT) in Path("/proc/self/maps").read_text()
    (tmp_path / "lexical" / lexical.IMPACT).unlink()
    with pytest.raises(FileNotFoundError):
        LexicalIndex.load(tmp_path / "lexical", len(TEXTS))


def test_a_document_is_stemmed_in_its_language_and_a_question_in_both() -> None:
    """'approving' meets 'approved' only through the English stemmer, 'verkiezingen' meets
    'verkiezing' only through the Dutch one, and a question's language need not be known."""
    english = "The parliament approved the membership after a long debate."
    dutch = "De verkiezing van het parlement is volgend jaar."
    assert lexical.language_of([english]) == "english"
    assert lexical.language_of([dutch, dutch, english]) == "dutch"  # the language of most of its stopwords
    assert lexical.language_of([dutch, english * 3]) == "english"
    assert lexical.language_of([]) == "dutch"
    assert lexical.tokenize("approving", "english") == lexical.tokenize("approved", "english")
    assert lexical.tokenize("approving", "dutch") != lexical.tokenize("approved", "dutch")

    index = LexicalIndex.build([english, dutch], 2, ["english", "dutch"])
    assert list(index.top("Who is approving the membership?", 2)[0]) == [0]
    assert list(index.top("Wanneer zijn de verkiezingen?", 2)[0]) == [1]
    dutch_only = LexicalIndex.build([english, dutch], 2, ["dutch", "dutch"])
    assert index.scores("approving")[0] > 0 and dutch_only.scores("approving")[0] == 0
