"""The documentation's figures are the committed results' own: a benchmark row in ``docs/`` is a row of a
``bench/results`` file, character for character, so a table cannot drift from the run it quotes."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import PROJECT

RESULTS_HEADER = "| benchmark | measurement |"


def tables(path: Path) -> list[list[str]]:
    """The Markdown tables of ``path``, each as its lines (header first)."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in [*path.read_text("utf-8").splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def benchmark_rows(path: Path) -> list[str]:
    """The data rows of every benchmark results table in ``path``."""
    return [row for table in tables(path) if table[0].startswith(RESULTS_HEADER) for row in table[2:]]


def test_every_benchmark_row_in_the_docs_is_a_row_of_a_committed_results_file() -> None:
    committed = {row for path in (PROJECT / "bench" / "results").rglob("results.md") for row in benchmark_rows(path)}
    quoted = {(path.name, row) for path in sorted((PROJECT / "docs").glob("*.md")) for row in benchmark_rows(path)}
    assert len(quoted) > 20  # the performance page quotes its tables
    assert [f"{name}: {row[:120]}" for name, row in sorted(quoted) if row not in committed] == []


def test_the_quality_summary_is_the_committed_quality_results() -> None:
    """``docs/quality.md``'s short table is what ``summary_table`` makes of ``bench/results/quality.json``."""
    import json

    from bench.quality.report import SUMMARY_HEADER, summary_table

    committed = json.loads((PROJECT / "bench" / "results" / "quality.json").read_text("utf-8"))
    (table,) = [t for t in tables(PROJECT / "docs" / "quality.md") if t[0] == SUMMARY_HEADER]
    assert "\n".join(table) == summary_table(committed)
