"""``python -m bench.quality.calibrate``: the relevance bars, chosen on the tune halves only.

Every tune-half question is asked, and its relevance is recorded (see ``index.search``). The
rule:

- ``min_relevance``: the highest bar, on a grid of 0.05, below which at most 1.6% of the
  answerable tune questions fall in every set (qa_dev, qa_dev_v2, squad): refusing a question
  the corpus answers is the worst mistake, so this bar comes first.
- ``answer_relevance``: the highest bar at which at most 8% of the answerable tune questions of
  every set fall between the two bars (hedged).

Both shares are 80% of their targets (2% refused, 10% hedged), which leaves room for the
check half.

Off-topic and near-topic questions play no part in the choice; their share below the bars is
printed for information. The chosen values go into ``index.search.CALIBRATED`` by hand.
"""

from __future__ import annotations

import argparse
import logging
import math
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.quality.data import Question
from bench.quality.run import load_sets, open_engines
from index import Engine
from index.encoders import DEFAULT_MODEL

GRID = 0.05
MAX_REFUSED = 0.016
MAX_HEDGED = 0.08
ANSWERABLE_SETS = ("qa_dev", "qa_dev_v2", "squad")


def best_relevance(engine: Engine, questions: Sequence[Question]) -> np.ndarray:
    """The relevance of each question (see ``index.search``)."""
    return np.asarray([engine.ask(question.text, k=1).relevance for question in questions], dtype=np.float64)


def highest_bar(values: Sequence[np.ndarray], share: float, below: float = -math.inf) -> float:
    """The highest bar on the grid at which at most ``share`` of each array lies in [below, bar)."""
    top = max(float(np.max(v)) for v in values)
    bar = math.floor(top / GRID) * GRID
    while bar > below:
        if all(np.mean((v >= below) & (v < bar)) <= share for v in values):
            return round(bar, 2)
        bar -= GRID
    return round(below, 2)


def choose(answerable: Sequence[np.ndarray]) -> tuple[float, float]:
    """``(min_relevance, answer_relevance)`` by the rule in the module docstring."""
    refuse = highest_bar(answerable, MAX_REFUSED)
    return refuse, highest_bar(answerable, MAX_HEDGED, below=refuse)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality.calibrate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="embedding model (EMBEDDING_MODEL)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("index.engine").setLevel(logging.ERROR)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    sets = load_sets()
    tune = {name: [q for q in qs if q.half == "tune"] for name, qs in sets.items()}
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        engines = open_engines(Path(tmp), model=args.model)
        relevance: dict[tuple[str, str], np.ndarray] = {}
        for name, questions in tune.items():
            engine = engines.for_set(name)
            by_kind: dict[str, list[Question]] = defaultdict(list)
            for question in questions:
                by_kind[question.kind].append(question)
            for kind, group in by_kind.items():
                relevance[(name, kind)] = best_relevance(engine, group)
    refuse, hedge = choose([relevance[(name, "answerable")] for name in ANSWERABLE_SETS])
    print(f"model {args.model}: MIN_RELEVANCE={refuse:.2f} ANSWER_RELEVANCE={hedge:.2f} (tune halves)")
    for (name, kind), values in sorted(relevance.items()):
        print(
            f"  {name:17s} {kind:10s} n={len(values):3d}  refused {np.mean(values < refuse):.3f}"
            f"  hedged {np.mean((values >= refuse) & (values < hedge)):.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
