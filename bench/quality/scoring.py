"""Scoring one question and aggregating many: recall@1/@3, MRR@3 and what the engine refused.

Everything here is a plain function of results, so the tests can check the arithmetic on
hand-made cases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bench.quality.data import HALVES, Gold, Question

# Passages the engine is asked for, and the depth every ranking figure is cut at.
K = 3
ENGINE = "engine"


class PassageLike(Protocol):
    """What scoring reads from a returned passage (``index.Passage`` has it)."""

    @property
    def text(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def paragraph(self) -> int: ...
    @property
    def sentence(self) -> str: ...


@dataclass(frozen=True)
class Result:
    """How one method did on one question.

    ``rank``: 1-based rank of the first right passage within the top ``K``, None when none of
    them is right (or the question is not answerable). ``outcome``: the engine's answered,
    hedged or refused; None for the baselines, which never refuse. ``marked``: whether the
    sentence the engine marks in its first passage holds the answer, when that passage is right
    and the set gives the answer's words; None otherwise.
    """

    question: Question
    method: str
    rank: int | None
    outcome: str | None = None
    error: str = ""
    marked: bool | None = None
    first: str | None = None  # the file of the first passage, when the method returned one


def first_hit(passages: Sequence[PassageLike], gold: Gold | None, k: int = K) -> int | None:
    """1-based position of the first passage among the first ``k`` that ``gold`` accepts."""
    if gold is None:
        return None
    for position, passage in enumerate(passages[:k], start=1):
        if gold.matches(passage.source, passage.paragraph, passage.text):
            return position
    return None


def other_article_first(result: Result) -> bool | None:
    """Whether an answerable question's first passage comes from an article that does not answer
    it; None when nothing was returned or the gold names no article."""
    gold = result.question.gold
    if result.first is None or gold is None or not gold.paragraphs:
        return None
    return result.first not in {source for source, _ in gold.paragraphs}


def marks_answer(passages: Sequence[PassageLike], question: Question) -> bool | None:
    """Whether the first passage's marked sentence holds one of the question's answers; None
    when that passage is not right or the question has no answer words."""
    if not question.answers or first_hit(passages, question.gold, k=1) != 1:
        return None
    return any(answer in passages[0].sentence for answer in question.answers)


def rank_of_gold(scores: np.ndarray, gold: np.ndarray, k: int = K) -> int | None:
    """Rank of the best-scored gold item in a full score vector, None when below ``k``.

    Ties count against the gold: a gold item tied with others is ranked after all of them, so a
    ranking that cannot tell paragraphs apart (all BM25 scores zero) earns nothing.
    """
    if not gold.any():
        return None
    best = scores[gold].max()
    rank = int((scores > best).sum() + ((scores == best) & ~gold).sum()) + 1
    return rank if rank <= k else None


@dataclass(frozen=True)
class Figures:
    """The figures of one group of results (one method, one set, one half). A share is None
    when the group has no question of that kind, or the method cannot refuse."""

    answerable: int
    recall_at_1: float | None
    recall_at_3: float | None
    mrr: float | None
    answer_marked: float | None  # of the answerable questions with a right first passage (``Result.marked``)
    answerable_refused: float | None
    answerable_hedged: float | None
    off_topic: int
    off_topic_refused: float | None
    near_topic: int
    near_topic_hedged_or_refused: float | None
    errors: int = 0
    # Of the answerable questions, the share whose first passage is another article's (corpora of several).
    other_article_first: float | None = None


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def aggregate(results: Iterable[Result]) -> Figures:
    """Figures of ``results``, which must all come from one method."""
    results = list(results)
    if len({r.method for r in results}) > 1:
        raise ValueError("aggregate results of one method at a time")
    answerable = [r for r in results if r.question.kind == "answerable"]
    off_topic = [r for r in results if r.question.kind == "off_topic"]
    near_topic = [r for r in results if r.question.kind == "near_topic"]
    refuses = bool(results) and all(r.outcome is not None for r in results)

    def outcomes(group: list[Result], *wanted: str) -> float | None:
        return _share([r.outcome in wanted for r in group]) if refuses else None

    return Figures(
        answerable=len(answerable),
        recall_at_1=_share([r.rank == 1 for r in answerable]),
        recall_at_3=_share([r.rank is not None and r.rank <= K for r in answerable]),
        mrr=sum(1 / r.rank for r in answerable if r.rank) / len(answerable) if answerable else None,
        answer_marked=_share([r.marked for r in answerable if r.marked is not None]),
        answerable_refused=outcomes(answerable, "refused"),
        answerable_hedged=outcomes(answerable, "hedged"),
        off_topic=len(off_topic),
        off_topic_refused=outcomes(off_topic, "refused"),
        near_topic=len(near_topic),
        near_topic_hedged_or_refused=outcomes(near_topic, "hedged", "refused"),
        errors=sum(bool(r.error) for r in results),
        other_article_first=_other_first(answerable),
    )


def _other_first(answerable: list[Result]) -> float | None:
    """``Figures.other_article_first``: over every answerable question (one with no passage counts
    as not), None when the corpus has one article or the method tells no first passage."""
    flags = [other_article_first(r) for r in answerable]
    sources = {source for r in answerable if r.question.gold for source, _ in r.question.gold.paragraphs}
    if len(sources) < 2 or all(flag is None for flag in flags):
        return None
    return sum(flag is True for flag in flags) / len(flags)


HALF_NAMES = (*HALVES, "all")
# set -> method -> half ("tune", "check", "all") -> figures
Tables = dict[str, dict[str, dict[str, Figures]]]
# set -> method -> half -> group (a language, a style) -> figures
Breakdown = dict[str, dict[str, dict[str, dict[str, Figures]]]]


def _in_half(result: Result, half: str) -> bool:
    return half == "all" or result.question.half == half


def _grouped(results: Iterable[Result]) -> dict[str, dict[str, list[Result]]]:
    """Results by set, then by method, each in the order it first appears."""
    out: dict[str, dict[str, list[Result]]] = {}
    for result in results:
        out.setdefault(result.question.set, {}).setdefault(result.method, []).append(result)
    return out


def tabulate(results: Sequence[Result]) -> Tables:
    """Figures for every set, method and half (methods in the order they first appear)."""
    return {
        set_name: {
            method: {half: aggregate(r for r in mine if _in_half(r, half)) for half in HALF_NAMES}
            for method, mine in methods.items()
        }
        for set_name, methods in _grouped(results).items()
    }


def breakdown(results: Sequence[Result], key: Callable[[Question], str]) -> Breakdown:
    """Figures of the answerable questions grouped by ``key`` (e.g. language), per set, method, half."""
    grouped = _grouped(r for r in results if r.question.kind == "answerable")
    return {
        set_name: {
            method: {
                half: {
                    group: aggregate(r for r in mine if key(r.question) == group and _in_half(r, half))
                    for group in sorted({key(r.question) for r in mine})
                }
                for half in HALF_NAMES
            }
            for method, mine in methods.items()
        }
        for set_name, methods in grouped.items()
    }
