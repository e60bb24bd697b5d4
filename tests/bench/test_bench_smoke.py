"""The engine-level benchmarks run end to end in their quick form and produce the documented results.

No timing is asserted: these are benchmarks, not timed tests. They run with the scale benchmarks'
model (``use-multilingual`` unless ``EMBEDDING_MODEL`` says otherwise), which encodes about a
hundred times faster than the default one: each benchmark takes its whole path, builds
included, in seconds (the default model's answers are tested in ``tests/index``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from bench import build, latency, report, scale
from bench.common import Row, Section, machine, scale_model
from index.encoders import Encoder, open_encoder


@pytest.fixture(scope="module")
def fast_encoder() -> Encoder:
    """The scale benchmarks' model, loaded once for these tests."""
    return open_encoder(scale_model())


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value >= 0


def _check(section: Section) -> None:
    assert section.rows
    for row in section.rows:
        assert isinstance(row, Row)
        assert row.unit and row.name and _finite(row.median), row
        assert row.p99 is None or _finite(row.p99)
        if row.baseline:
            assert _finite(row.baseline_median) and row.ratio is not None


def test_quick_engine_benchmarks_write_table_json_and_plots(fast_encoder: Encoder, tmp_path: Path) -> None:
    sections = [
        latency.run(fast_encoder, quick=True),
        build.run(quick=True, model=fast_encoder.name),
        scale.run(fast_encoder, quick=True),
    ]
    for section in sections:
        _check(section)

    answer = sections[0].rows[0]
    assert answer.baseline == "encode floor" and answer.samples >= 34 and answer.met is not None
    points = sections[2].series["points"]
    assert [p["vectors"] for p in points] == list(scale.QUICK_SIZES)
    assert all(0.0 <= p["recall_at_3"] <= 1.0 for p in points)

    text = report.write(sections, machine(), tmp_path, command="python -m bench --quick", seconds=1.0)
    assert text.count("\n| ") == sum(len(s.rows) for s in sections) + 1  # header + one line a row
    data = json.loads((tmp_path / "results.json").read_text())
    assert {row["section"] for row in data["rows"]} == {"Answer latency", "Index build", "Search at scale"}
    for plot in ("latency_vs_corpus.png", "answer_latency.png", "build.png"):
        assert (tmp_path / plot).read_bytes().startswith(b"\x89PNG")


def test_quick_end_to_end_benchmark_asks_starts_and_weighs_workers() -> None:
    from bench import endtoend

    section = endtoend.run(quick=True)
    _check(section)
    names = [row.name for row in section.rows]
    assert any(name.endswith(f"ask ({endtoend.scale_model()})") for name in names)
    assert any("CLI process start" in name for name in names)
    together = section.rows[-1]
    assert together.baseline == "one worker" and together.ratio is not None and together.ratio > 1


def test_quick_incremental_and_fairness_benchmarks_measure_what_they_name(fast_encoder: Encoder) -> None:
    from bench import fairness, incremental

    added = incremental.run(fast_encoder, quick=True)
    _check(added)
    unchanged, new_file, uploaded = added.rows
    assert unchanged.note.startswith("0 texts encoded")  # an unchanged corpus encodes nothing
    assert "1 document embedded" in new_file.note and "answered from the new article: yes" in new_file.note
    assert "sent by an admin" in uploaded.name and "answered from the new article: yes" in uploaded.note
    fair = fairness.run(fast_encoder, quick=True)
    _check(fair)
    crowded, alone = fair.rows
    assert crowded.baseline == "the same reader alone" and crowded.samples >= 2 and alone.samples >= 2
    assert "3 answered with passages" in crowded.note  # one longest question per reader and window
