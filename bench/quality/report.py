"""Markdown tables (printed, and written to quality.md) and the JSON of every figure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bench.quality.scoring import HALF_NAMES, Breakdown, Figures, Tables
from bench.quality.targets import MAX_GAP, Check, Gap

TITLES = {
    "qa_dev": "qa_dev: the article, first dev set",
    "qa_dev_v2": "qa_dev_v2: the article, varied users",
    "squad": "squad: SQuAD 2.0 dev as its own corpus (impossible questions = near-topic)",
    "squad-vs-article": "squad-vs-article: all SQuAD questions against the article (off-topic)",
    "newsroom": "newsroom: the article among the team's own articles (same subject, short, English)",
}
# Sets whose answerable questions are also shown per style, and per article when they have several.
STYLED = ("qa_dev_v2", "newsroom")

# (heading, Figures field, is a count)
COLUMNS = (
    ("answerable", "answerable", True),
    ("recall@1", "recall_at_1", False),
    ("recall@3", "recall_at_3", False),
    ("MRR@3", "mrr", False),
    ("answer sentence marked", "answer_marked", False),
    ("answerable refused", "answerable_refused", False),
    ("answerable hedged", "answerable_hedged", False),
    ("off-topic", "off_topic", True),
    ("off-topic refused", "off_topic_refused", False),
    ("near-topic", "near_topic", True),
    ("near-topic hedged or refused", "near_topic_hedged_or_refused", False),
    ("another article first", "other_article_first", False),
)


def _cell(value: float | int | None, count: bool) -> str:
    if value is None or (count and value == 0):
        return "-"
    return str(value) if count else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    align = ["---" if i < numeric_from else "--:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def set_table(methods: dict[str, dict[str, Figures]]) -> str:
    """Rows method x half, a column per figure that some row has."""
    used = [
        column
        for column in COLUMNS
        if any(_cell(getattr(f, column[1]), column[2]) != "-" for halves in methods.values() for f in halves.values())
    ]
    rows = [
        [method, half, *(_cell(getattr(halves[half], field), count) for _, field, count in used)]
        for method, halves in methods.items()
        for half in HALF_NAMES
    ]
    return _table(["method", "half", *(heading for heading, _, _ in used)], rows, 2)


def _groups(methods: dict[str, dict[str, dict[str, Figures]]]) -> list[str]:
    return sorted({g for halves in methods.values() for per_group in halves.values() for g in per_group})


def breakdown_table(methods: dict[str, dict[str, dict[str, Figures]]], heading: str, *, others: bool = False) -> str:
    """Rows group x half, recall@1 and @3 of every method side by side; with ``others``, also
    the engine's share of questions answered first from another article."""
    groups = _groups(methods)
    header = [heading, "half", "questions"]
    for method in methods:
        header += [f"{method} recall@1", f"{method} recall@3"]
    if others:
        header.append("another article first")
    rows = []
    for group in groups:
        for half in HALF_NAMES:
            figures = [halves[half].get(group) for halves in methods.values()]
            count = next((f.answerable for f in figures if f is not None), 0)
            row = [group, half, str(count)]
            for f in figures:
                row += [_cell(f.recall_at_1 if f else None, False), _cell(f.recall_at_3 if f else None, False)]
            if others:
                row.append(_cell(figures[0].other_article_first if figures[0] else None, False))
            rows.append(row)
    return _table(header, rows, 2)


def gap_table(found: Sequence[Gap]) -> str:
    rows = [
        [g.set, g.figure, f"{g.tune:.3f}", f"{g.check:.3f}", f"{g.difference:+.3f}", "!" if g.flagged else ""]
        for g in found
    ]
    return _table(["set", "figure (engine)", "tune", "check", "tune - check", f"> {MAX_GAP:g}"], rows, 2)


def targets_block(checks: Sequence[Check]) -> str:
    rows = [[c.status, c.target, c.message] for c in checks]
    met = sum(c.passed is True for c in checks)
    failed = sum(c.passed is False for c in checks)
    summary = f"{met} of {len(checks)} targets met, {failed} failed"
    skipped = len(checks) - met - failed
    if skipped:
        summary += f", {skipped} not measured"
    return _table(["status", "target (check half)", "measured"], rows, 3) + f"\n\n{summary}."


def render(
    tables: Tables,
    languages: Breakdown,
    styles: Breakdown,
    found_gaps: Sequence[Gap],
    checks: Sequence[Check],
    *,
    preamble: Sequence[str],
    seconds: float,
    articles: Breakdown | None = None,
) -> str:
    """The whole report as Markdown."""
    parts = ["# Answer quality", "", *preamble, ""]
    for set_name, methods in tables.items():
        parts += [f"## {TITLES.get(set_name, set_name)}", "", set_table(methods), ""]
        per_article = (articles or {}).get(set_name, {})
        several = len(_groups(per_article)) > 1
        if several:
            table = breakdown_table(per_article, "article", others=True)
            parts += [f"{set_name}, answerable, per article:", "", table, ""]
        if len(_groups(languages.get(set_name, {}))) > 1:
            table = breakdown_table(languages[set_name], "lang", others=several)
            parts += [f"{set_name}, answerable, per language:", "", table, ""]
        if set_name in STYLED and len(_groups(styles.get(set_name, {}))) > 1:
            table = breakdown_table(styles[set_name], "style", others=several)
            parts += [f"{set_name}, answerable, per style:", "", table, ""]
    parts += ["## Tune against check (engine)", "", gap_table(found_gaps), ""]
    parts += ["## Targets", "", targets_block(checks), "", f"Wall time: {seconds:.1f} s."]
    return "\n".join(parts) + "\n"


def to_json(
    tables: Tables,
    languages: Breakdown,
    styles: Breakdown,
    found_gaps: Sequence[Gap],
    checks: Sequence[Check],
    articles: Breakdown | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Every figure as plain JSON data."""
    return {
        **extra,
        "by_article": _breakdown_json(articles or {}),
        "sets": {
            s: {m: {h: asdict(f) for h, f in halves.items()} for m, halves in ms.items()} for s, ms in tables.items()
        },
        "by_language": _breakdown_json(languages),
        "by_style": _breakdown_json(styles),
        "gaps": [{**asdict(g), "difference": g.difference, "flagged": g.flagged} for g in found_gaps],
        "targets": [{**asdict(c), "status": c.status} for c in checks],
    }


def _breakdown_json(breakdown: Breakdown) -> dict[str, Any]:
    return {
        s: {
            m: {h: {g: asdict(f) for g, f in groups.items()} for h, groups in halves.items()}
            for m, halves in ms.items()
        }
        for s, ms in breakdown.items()
    }


SUMMARY_SETS = ("qa_dev", "qa_dev_v2", "newsroom", "squad", "squad-vs-article")
NONE = "\N{EN DASH}"  # a figure the set has not (no off-topic questions, no second article)
SUMMARY_HEADER = (
    "| set | half | recall@1 | recall@3 | BM25 r@1 / r@3 | dense r@1 / r@3 | answer sentence marked "
    "| answerable refused | answerable hedged | off-topic refused | near-topic hedged or refused "
    "| another article first |"
)


def summary_table(figures: dict[str, Any]) -> str:
    """The short table of ``docs/quality.md``: every set's engine and baseline figures per half, two
    decimals, from the JSON ``to_json`` wrote (``bench/results/quality.json``)."""

    def cell(value: float | None) -> str:
        return NONE if value is None else f"{value:.2f}"

    def pair(method: dict[str, Any] | None) -> str:
        if not method or method.get("recall_at_1") is None:
            return NONE
        return f"{cell(method['recall_at_1'])} / {cell(method['recall_at_3'])}"

    lines = [SUMMARY_HEADER, "|---|---|" + "--:|" * 10]
    for name in SUMMARY_SETS:
        methods = figures["sets"].get(name)
        if methods is None:
            continue
        for half in ("tune", "check"):
            engine = methods["engine"][half]
            keys = ("recall_at_1", "recall_at_3")
            rank = [cell(engine[k]) for k in keys]
            baselines = [pair(methods.get(m, {}).get(half)) for m in ("bm25", "dense")]
            rest = [
                cell(engine[k])
                for k in (
                    "answer_marked",
                    "answerable_refused",
                    "answerable_hedged",
                    "off_topic_refused",
                    "near_topic_hedged_or_refused",
                    "other_article_first",
                )
            ]
            lines.append("| " + " | ".join([name, half, *rank, *baselines, *rest]) + " |")
    return "\n".join(lines)
