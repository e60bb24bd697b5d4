"""Retrieval quality on the dev questions: recall@1, recall@3, MRR and refusals, printed and checked.

A question counts as found at rank r when the r-th returned passage contains one of its gold
fragments. Targets: recall@1 >= 0.90 overall and >= 0.85 per language, recall@3 >= 0.97,
every unanswerable question refused, at most one answerable question refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index import Engine

DEV = Path(__file__).resolve().parent.parent / "data" / "qa_dev.json"


def evaluate(engine: Engine, data: dict[str, Any]) -> dict[str, Any]:
    """Figures for ``engine`` on ``data`` (the qa_dev.json shape)."""
    per_language: dict[str, dict[str, float]] = {}
    rows = []
    for item in data["answerable"]:
        answer = engine.ask(item["q"], k=3)
        rank = next(
            (i for i, p in enumerate(answer.passages, 1) if any(g in p.text for g in item["gold"])),
            None,
        )
        rows.append((item["lang"], rank, answer.answered))
    for language in [*sorted({lang for lang, _, _ in rows}), "all"]:
        mine = [r for r in rows if language in ("all", r[0])]
        per_language[language] = {
            "questions": len(mine),
            "recall@1": sum(rank == 1 for _, rank, _ in mine) / len(mine),
            "recall@3": sum(rank is not None for _, rank, _ in mine) / len(mine),
            "mrr": sum(1 / rank for _, rank, _ in mine if rank) / len(mine),
        }
    refused = sum(not engine.ask(item["q"]).answered for item in data["unanswerable"])
    return {
        "languages": per_language,
        "unanswerable_refused": refused,
        "unanswerable": len(data["unanswerable"]),
        "answerable_refused": sum(not answered for _, _, answered in rows),
    }


def _table(figures: dict[str, Any]) -> str:
    lines = ["", "language  questions  recall@1  recall@3  MRR"]
    for language, f in figures["languages"].items():
        lines.append(f"{language:8s}  {f['questions']:9d}  {f['recall@1']:8.2f}  {f['recall@3']:8.2f}  {f['mrr']:.2f}")
    lines.append(f"unanswerable refused: {figures['unanswerable_refused']}/{figures['unanswerable']}")
    lines.append(f"answerable wrongly refused: {figures['answerable_refused']}")
    return "\n".join(lines)


@pytest.mark.quality
def test_dev_questions_meet_the_quality_targets(article_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    figures = evaluate(article_engine, json.loads(DEV.read_text("utf-8")))
    with capsys.disabled():
        print(_table(figures))
    overall = figures["languages"].pop("all")
    assert overall["recall@1"] >= 0.90
    assert overall["recall@3"] >= 0.97
    for language, f in figures["languages"].items():
        assert f["recall@1"] >= 0.85, language
    assert figures["unanswerable_refused"] == figures["unanswerable"]
    assert figures["answerable_refused"] <= 1
