"""The quality targets, checked on the check halves, and the tune/check gap of every figure.

A target reads one engine figure from the tables and compares it with a number, or with
another figure (a baseline's). A gap target compares a figure's tune half with its check half:
a choice fitted to the tune half shows as a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bench.quality.scoring import ENGINE, Breakdown, Tables

Op = Literal[">=", "<=", ">"]
MAX_GAP = 0.05
# Figures are shares of question counts; this absorbs float noise such as 0.8 - 0.75 > 0.05.
EPSILON = 1e-9

LABELS = {
    "recall_at_1": "recall@1",
    "recall_at_3": "recall@3",
    "mrr": "MRR@3",
    "answer_marked": "answer sentence marked",
    "answerable_refused": "answerable refused",
    "answerable_hedged": "answerable hedged",
    "off_topic_refused": "off-topic refused",
    "near_topic_hedged_or_refused": "near-topic hedged or refused",
}
# Figures of corpora of several articles only, held by a floor but left out of the tune/check gaps.
CORPUS_LABELS = {"other_article_first": "another article first"}


@dataclass(frozen=True)
class Figure:
    """A named figure, read for one half from the tables and the per-language breakdown."""

    name: str
    read: Callable[[Tables, Breakdown, str], float | None]


def metric(set_name: str, field: str, method: str = ENGINE) -> Figure:
    """``field`` of ``method`` on ``set_name`` (e.g. ``metric("squad", "recall_at_1", "bm25")``)."""

    def read(tables: Tables, languages: Breakdown, half: str) -> float | None:
        figures = tables.get(set_name, {}).get(method, {}).get(half)
        value = getattr(figures, field) if figures is not None else None
        return None if value is None else float(value)

    who = "" if method == ENGINE else f" ({method})"
    return Figure(f"{set_name} {LABELS.get(field) or CORPUS_LABELS[field]}{who}", read)


def language_gap(set_name: str, first: str = "en", second: str = "nl") -> Figure:
    """abs(recall@1(first) - recall@1(second)) of the engine on ``set_name``'s answerable questions."""

    def read(tables: Tables, languages: Breakdown, half: str) -> float | None:
        groups = languages.get(set_name, {}).get(ENGINE, {}).get(half, {})
        a, b = groups.get(first), groups.get(second)
        if a is None or b is None or a.recall_at_1 is None or b.recall_at_1 is None:
            return None
        return abs(a.recall_at_1 - b.recall_at_1)

    return Figure(f"{set_name} {first}/{second} recall@1 gap", read)


@dataclass(frozen=True)
class Target:
    """``figure op bound`` on the check half; with ``gap``, ``abs(tune - check) <= bound`` instead.

    Names carry no ``|``: they go into Markdown table cells.
    """

    figure: Figure
    op: Op
    bound: float | Figure
    gap: bool = False

    @property
    def name(self) -> str:
        bound = self.bound.name if isinstance(self.bound, Figure) else f"{self.bound:g}"
        if self.gap:
            return f"tune/check gap of {self.figure.name} {self.op} {bound}"
        return f"{self.figure.name} {self.op} {bound}"


@dataclass(frozen=True)
class Check:
    """A target's verdict: passed True/False, or None when the figure was not measured."""

    target: str
    value: float | None
    bound: float | None
    passed: bool | None
    message: str

    @property
    def status(self) -> str:
        return {True: "PASS", False: "FAIL", None: "SKIP"}[self.passed]

    @property
    def summary(self) -> str:
        return f"{self.status} {self.target}: {self.message}"


def _holds(value: float, op: Op, bound: float) -> bool:
    if op == ">=":
        return value >= bound - EPSILON
    if op == "<=":
        return value <= bound + EPSILON
    return value > bound + EPSILON


def check(target: Target, tables: Tables, languages: Breakdown, half: str = "check") -> Check:
    """Check ``target`` on ``half`` (its gap: between the tune and the check half)."""
    read = target.figure.read
    if target.gap:
        tune, checked = read(tables, languages, "tune"), read(tables, languages, "check")
        value = None if tune is None or checked is None else abs(tune - checked)
        what = f"tune {_f(tune)}, check {_f(checked)}: gap {_f(value)}"
    else:
        value = read(tables, languages, half)
        what = f"{_f(value)} on the {half} half"
    if isinstance(target.bound, Figure):
        bound = target.bound.read(tables, languages, half)
        bound_name = f"{target.bound.name} {_f(bound)}"
    else:
        bound, bound_name = target.bound, f"{target.bound:g}"
    if value is None or bound is None:
        return Check(target.name, value, bound, None, "not measured in this run")
    passed = _holds(value, target.op, bound)
    if passed:
        message = f"{what} {target.op} {bound_name}"
    else:
        side = {">=": "below", "<=": "above", ">": "not above"}[target.op]
        message = f"{what} is {side} {bound_name} by {abs(value - bound):.3f}"
    return Check(target.name, value, bound, passed, message)


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _targets() -> list[Target]:
    v2_r1, v2_r3 = metric("qa_dev_v2", "recall_at_1"), metric("qa_dev_v2", "recall_at_3")
    squad_r1, squad_r3 = metric("squad", "recall_at_1"), metric("squad", "recall_at_3")
    fixed = [
        Target(v2_r1, ">=", 0.75),
        Target(v2_r3, ">=", 0.92),
        Target(squad_r1, ">=", 0.92),
        Target(squad_r3, ">=", 0.99),
        Target(metric("qa_dev_v2", "off_topic_refused"), ">=", 0.85),
        Target(metric("squad-vs-article", "off_topic_refused"), ">=", 0.90),
        Target(metric("qa_dev_v2", "near_topic_hedged_or_refused"), ">=", 0.40),
        Target(metric("qa_dev_v2", "answerable_hedged"), "<=", 0.10),
        *(Target(metric(s, "answerable_refused"), "<=", 0.02) for s in ("qa_dev", "qa_dev_v2", "squad")),
    ]
    return [
        *fixed,
        Target(language_gap("qa_dev_v2"), "<=", 0.10),
        # On SQuAD the engine must beat both baselines, at rank 1 and within the top 3.
        *(Target(squad_r1, ">", metric("squad", "recall_at_1", method)) for method in ("bm25", "dense")),
        *(Target(squad_r3, ">", metric("squad", "recall_at_3", method)) for method in ("bm25", "dense")),
        # Every headline figure with a fixed bound must also hold across halves.
        *(Target(t.figure, "<=", MAX_GAP, gap=True) for t in fixed),
    ]


TARGETS: tuple[Target, ...] = tuple(_targets())


def _floors() -> list[Target]:
    """What CI holds the engine to: each target it meets, and for each it does not yet meet, the
    check-half figure it reaches today (rounded against it), so that a regression fails the tests
    while ``make eval`` keeps reporting the distance to the target."""
    v2_r1, v2_r3 = metric("qa_dev_v2", "recall_at_1"), metric("qa_dev_v2", "recall_at_3")
    squad_r1, squad_r3 = metric("squad", "recall_at_1"), metric("squad", "recall_at_3")
    return [
        Target(v2_r1, ">=", 0.75),
        Target(v2_r3, ">=", 0.92),
        Target(squad_r1, ">=", 0.87),  # target 0.92
        Target(squad_r3, ">=", 0.97),  # target 0.99
        Target(metric("qa_dev_v2", "off_topic_refused"), ">=", 0.80),  # target 0.85
        Target(metric("squad-vs-article", "off_topic_refused"), ">=", 0.90),
        Target(metric("qa_dev_v2", "near_topic_hedged_or_refused"), ">=", 0.30),  # target 0.40
        Target(metric("qa_dev_v2", "answerable_hedged"), "<=", 0.17),  # target 0.10
        Target(metric("qa_dev", "answerable_refused"), "<=", 0.02),
        Target(metric("qa_dev_v2", "answerable_refused"), "<=", 0.04),  # target 0.02
        Target(metric("squad", "answerable_refused"), "<=", 0.02),
        Target(language_gap("qa_dev_v2"), "<=", 0.10),
        *(Target(squad_r1, ">", metric("squad", "recall_at_1", method)) for method in ("bm25", "dense")),
        *(Target(squad_r3, ">", metric("squad", "recall_at_3", method)) for method in ("bm25", "dense")),
        # No target: the marked sentence as the engine marks it today.
        *(Target(metric(s, "answer_marked"), ">=", 0.85) for s in ("qa_dev_v2", "squad")),
        # The newsroom corpus, where every target is still ahead: today's check half, less two
        # questions of its 97 answerable (one of its 31 off-topic ones).
        Target(metric("newsroom", "recall_at_1"), ">=", 0.70),  # target 0.85
        Target(metric("newsroom", "recall_at_3"), ">=", 0.83),  # target 0.95
        Target(metric("newsroom", "other_article_first"), "<=", 0.20),  # target 0.05
        Target(metric("newsroom", "off_topic_refused"), ">=", 0.48),  # target 0.90
        Target(metric("newsroom", "answerable_refused"), "<=", 0.05),  # target 0.02
        Target(metric("newsroom", "answerable_hedged"), "<=", 0.21),  # target 0.10
    ]


FLOORS: tuple[Target, ...] = tuple(_floors())


def check_all(
    tables: Tables, languages: Breakdown, targets: Sequence[Target] = TARGETS, half: str = "check"
) -> list[Check]:
    return [check(target, tables, languages, half) for target in targets]


@dataclass(frozen=True)
class Gap:
    """One engine figure on both halves; ``flagged`` when they differ by more than MAX_GAP."""

    set: str
    figure: str
    tune: float
    check: float

    @property
    def difference(self) -> float:
        return self.tune - self.check

    @property
    def flagged(self) -> bool:
        return abs(self.difference) > MAX_GAP + EPSILON


def gaps(tables: Tables) -> list[Gap]:
    """Tune against check for every engine figure measured on both halves."""
    out = []
    for set_name, methods in tables.items():
        halves = methods.get(ENGINE)
        if halves is None:
            continue
        for field, label in LABELS.items():
            tune, checked = getattr(halves["tune"], field), getattr(halves["check"], field)
            if tune is not None and checked is not None:
                out.append(Gap(set_name, label, float(tune), float(checked)))
    return out
