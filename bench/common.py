"""What every benchmark shares: result rows, timing and statistics, the article and its questions, the machine."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
ARTICLE = PROJECT / "corpus" / "armenia-icc-2023-10.txt"
QUESTIONS = PROJECT / "tests" / "data" / "qa_dev.json"
RESULTS = PROJECT / "bench" / "results"


@dataclass
class Row:
    """One line of the results table: a measurement, its baseline and its target."""

    section: str
    name: str
    unit: str
    median: float
    p99: float | None = None
    baseline: str = ""
    baseline_median: float | None = None
    target: str = ""
    met: bool | None = None
    samples: int = 0
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_median in (None, 0) or self.median is None:
            return None
        return self.median / self.baseline_median

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


@dataclass
class Section:
    """The rows of one benchmark plus series for its plots."""

    name: str
    rows: list[Row] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    skipped: str = ""


def scale_model() -> str:
    """The model of the scale benchmarks (build, end to end): ``EMBEDDING_MODEL``, else ``use-multilingual``.

    Not the engine's default: E5 encodes a question in ~20 ms and builds ~2 paragraphs a
    second on 2 cores, USE in ~3.5 ms and ~200 a second.
    """
    return os.environ.get("EMBEDDING_MODEL") or "use-multilingual"


def percentile(values: list[float] | np.ndarray, q: float) -> float:
    """The ``q``-th percentile (nearest rank, so a p99 is an observed value)."""
    data = np.sort(np.asarray(values, dtype=np.float64))
    if data.size == 0:
        return math.nan
    rank = max(1, math.ceil(q / 100 * data.size))
    return float(data[rank - 1])


def ms(seconds: list[float]) -> tuple[float, float]:
    """Median and p99 of durations in seconds, in milliseconds."""
    return percentile(seconds, 50) * 1e3, percentile(seconds, 99) * 1e3


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def questions() -> list[str]:
    """The dev questions, answerable and unanswerable, in file order."""
    data = json.loads(QUESTIONS.read_text("utf-8"))
    return [item["q"] for key in ("answerable", "unanswerable") for item in data[key]]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (math.nan, math.nan, math.nan)
    memory = 0.0
    try:
        import psutil

        memory = psutil.virtual_memory().total / 2**30
    except ImportError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in load],
    }
