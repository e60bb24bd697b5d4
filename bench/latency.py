"""Answer latency on the article: question in, ranked passages out, against its two baselines.

Baselines, measured in the same loop so that machine noise hits all three alike:
the bare encode of the question with the same model (the floor of a dense design) and
BM25 alone (score every sentence, take the best three: the fastest peer a user could pick).
Each round asks every dev question once, in a shuffled order; the engine's answer cache
is off, and the cached figure is measured apart, by a second engine over the same index.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from bench.common import ARTICLE, Row, Section, ms, questions, timed
from index import Engine, EngineConfig
from index.encoders import Encoder

TARGET_P50_MS = 30.0
TARGET_P99_MS = 80.0
TARGET_RATIO = 1.5
ROUNDS = 10  # 34 questions a round: 340 of each kind
QUICK_ROUNDS = 1


def article_engine(encoder: Encoder, root: Path, *, cache_size: int) -> Engine:
    """An engine over a private copy of the article, built now."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, corpus)
    engine = Engine(EngineConfig(corpus_dir=corpus, index_dir=root / "index", cache_size=cache_size), encoder)
    engine.load()
    return engine


def bm25_top3(engine: Engine, question: str) -> np.ndarray:
    scores = engine.index.lexical.scores(question)
    return np.argsort(-scores)[:3]


def run(encoder: Encoder, *, quick: bool = False) -> Section:
    section = Section("latency")
    asked = questions()
    rounds = QUICK_ROUNDS if quick else ROUNDS
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        engine = article_engine(encoder, Path(tmp), cache_size=0)
        cached = Engine(dataclasses.replace(engine.config, cache_size=1024), encoder)
        cached.load(build=False)
        for question in asked:  # warm-up: first calls allocate
            engine.ask(question)
            cached.ask(question)
        shuffle = random.Random(7)
        floor: list[float] = []
        lexical: list[float] = []
        answer: list[float] = []
        hits: list[float] = []
        for _ in range(rounds):
            order = asked[:]
            shuffle.shuffle(order)
            for question in order:
                floor.append(timed(partial(encoder.queries, [question])))
                lexical.append(timed(partial(bm25_top3, engine, question)))
                answer.append(timed(partial(engine.ask, question)))
                hits.append(timed(partial(cached.ask, question)))

    floor_p50, floor_p99 = ms(floor)
    bm25_p50, bm25_p99 = ms(lexical)
    answer_p50, answer_p99 = ms(answer)
    hit_p50, hit_p99 = ms(hits)
    n = len(answer)
    section.rows += [
        Row(
            "Answer latency",
            f"ask, default model ({encoder.name})",
            "ms",
            answer_p50,
            answer_p99,
            "encode floor",
            floor_p50,
            f"p50 <= {TARGET_P50_MS:g}, p99 <= {TARGET_P99_MS:g}, <= {TARGET_RATIO}x floor",
            answer_p50 <= TARGET_P50_MS and answer_p99 <= TARGET_P99_MS and answer_p50 <= TARGET_RATIO * floor_p50,
            n,
            "answer cache off",
        ),
        Row(
            "Answer latency",
            "baseline: encode one question",
            "ms",
            floor_p50,
            floor_p99,
            samples=n,
            note="Encoder.queries, same model",
        ),
        Row("Answer latency", "baseline: BM25 alone, top 3", "ms", bm25_p50, bm25_p99, samples=n),
        Row("Answer latency", "ask vs BM25 alone", "ms", answer_p50, answer_p99, "BM25 alone", bm25_p50, samples=n),
        Row(
            "Answer latency",
            "ask, repeated question (cache hit)",
            "ms",
            hit_p50,
            hit_p99,
            "encode floor",
            floor_p50,
            samples=n,
        ),
    ]
    section.series = {
        "answer_ms": [t * 1e3 for t in answer],
        "floor_ms": [t * 1e3 for t in floor],
        "bm25_ms": [t * 1e3 for t in lexical],
        "cached_ms": [t * 1e3 for t in hits],
    }
    return section
