"""Answer quality on held-out questions: ``python -m bench.quality`` (``make eval``).

The engine (``Engine.ask``) and two baselines (BM25 alone, the dense model alone, over whole
paragraphs) answer the question sets in ``tests/data/eval``, each split into a fixed tune and
check half; every figure is reported for both halves and the targets are checked on the check
half. ``data`` loads the sets and builds the SQuAD corpus, ``scoring`` scores and aggregates,
``baselines`` ranks paragraphs without the engine, ``targets`` holds the targets, ``report``
the tables and ``run`` the command.
"""

from bench.quality.run import main

__all__ = ["main"]
