"""End to end at scale: ``engine.ask`` over 10k, 100k and 1M stored sentences, beside its parts.

Per size, in one loop over shuffled questions (answer cache off): ``engine.ask``; the bare
encode of the question (the floor); FAISS alone (the engine's index, the engine's number of
candidates, one thread); BM25 alone (bm25s's top-k, as the engine asks it). At the largest
size also: a CLI process from start to its first answer, and the memory (PSS, from
``/proc/PID/smaps_rollup``) of one worker alone against two workers serving the same index,
each after answering the same questions.

The corpora are synthetic (``bench.synth``: the article's and the background's Dutch sentences
recombined, numbers and places varied). The index is the engine's own, written by
``Engine.reindex`` (texts, BM25, FAISS, manifest); only the passage vectors come from a cheaper
source: each is a random mix of two of 4,000 encoded word windows plus noise
(``bench.scale.realish``), because encoding a million sentences three ways (sentence, titled
sentence, paragraph) with USE takes about 40 minutes on 2 cores. Questions, and the background
sentences the relevance bar compares with, are encoded by the real model. The model is
``use-multilingual`` (``EMBEDDING_MODEL`` picks another): E5's ~20 ms encode alone is over the
10 ms target.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from bench import synth
from bench.common import Row, Section, ms, percentile, questions, scale_model, timed
from bench.processes import pss, wall
from bench.scale import BASES, realish
from index import Engine, EngineConfig
from index.background import background_texts
from index.encoders import BATCH, Encoder, open_encoder
from index.search import CANDIDATES
from index.vectors import describe, one_thread
from tests.support.processes import start

SIZES = (10_000, 100_000)
FULL_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000,)
SENTENCES_PER_PARAGRAPH = 3.45  # of ``synth.paragraphs``, measured: 349,755 sentences in 100k paragraphs
ROUNDS = 6  # 34 dev questions a round
TARGET_P50_MS, TARGET_P99_MS = 10.0, 25.0  # at 1M sentences
TARGET_COLD_S = 5.0
TARGET_PSS_RATIO = 1.3
WORKER_QUESTIONS = 200  # word windows asked of each worker besides the dev questions


class MixedVectors:
    """The real model for questions and the background text; mixes of real vectors for passages."""

    def __init__(self, model: Encoder, base: np.ndarray, seed: int = 5) -> None:
        self.name = model.name
        self.dimension = model.dimension
        self._model = model
        self._base = base
        self._rng = np.random.default_rng(seed)
        self._background = background_texts()

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._model.queries(texts)

    def documents(
        self,
        texts: list[str],
        *,
        batch_size: int = BATCH,
        progress: bool = False,
        check: Callable[[], None] | None = None,
    ) -> np.ndarray:
        if texts == self._background:
            return self._model.documents(texts)
        return realish(self._base, len(texts), self._rng)


def build_index(root: Path, sentences: int, mixed: MixedVectors) -> tuple[Path, Path, float]:
    """A synthetic corpus of about ``sentences`` sentences and its index; the folders and build seconds."""
    corpus, index = root / "corpus", root / "index"
    synth.write_corpus(corpus, max(1, round(sentences / SENTENCES_PER_PARAGRAPH)))
    config = EngineConfig(corpus_dir=corpus, index_dir=index, model=mixed.name, cache_size=0)
    started = time.perf_counter()
    Engine(config, mixed).reindex()
    return corpus, index, time.perf_counter() - started


def measure_ask(engine: Engine, rounds: int) -> dict[str, list[float]]:
    """Seconds per question of ask, the encode floor, FAISS alone and BM25 alone, interleaved."""
    index = engine.index
    asked = questions()
    wanted = min(CANDIDATES, index.vectors.ntotal)
    with one_thread():  # restored after: the builds that follow use every thread
        for question in asked:  # warm-up: first calls allocate and fault pages in
            engine.ask(question)
        # FAISS alone is timed on a vector encoded beforehand.
        vectors = {q: engine.encoder.queries([q]) for q in asked}
        times: dict[str, list[float]] = {"ask": [], "floor": [], "faiss": [], "bm25": []}
        shuffle = random.Random(7)
        for _ in range(rounds):
            order = asked[:]
            shuffle.shuffle(order)
            for question in order:
                times["floor"].append(timed(partial(engine.encoder.queries, [question])))
                times["faiss"].append(timed(partial(index.vectors.search, vectors[question], wanted)))
                times["bm25"].append(timed(partial(index.lexical.top, question, wanted)))
                times["ask"].append(timed(partial(engine.ask, question)))
    return times


def cold_start(index: Path, corpus: Path, runs: int) -> tuple[list[float], list[float]]:
    """Seconds from ``python -m bot ask --json`` starting to its answer, and peak RSS (MB); after a warm-up run."""
    question = "Wat is er met Nagorno-Karabach gebeurd?"
    env = folders(index, corpus)
    wall("ask", "--json", question, folder=corpus.parent, env=env, expect='"question"')  # warms the page cache
    seconds, peaks = [], []
    for _ in range(runs):
        s, peak = wall("ask", "--json", question, folder=corpus.parent, env=env, expect='"question"')
        seconds.append(s)
        peaks.append(peak)
    return seconds, peaks


def folders(index: Path, corpus: Path) -> dict[str, str]:
    """The settings of a ``python -m bot ask`` over ``index`` and ``corpus`` with the scale model."""
    return {
        "INDEX_DIR": str(index),
        "CORPUS_DIR": str(corpus),
        "EMBEDDING_MODEL": scale_model(),
        "LOG_LEVEL": "WARNING",
    }


def serving_memory(index: Path, corpus: Path, workers: int, asked: list[str]) -> list[dict[str, float]]:
    """PSS breakdown (MB) of ``workers`` processes of ``python -m bot ask --json -`` on one index,
    each after answering every one of ``asked``; read while all of them are still running."""
    children = [
        start(
            "ask",
            "--json",
            "-",
            folder=corpus.parent,
            env=folders(index, corpus),
            name=f"worker-{n}",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for n in range(workers)
    ]
    try:
        for child in children:
            assert child.process.stdin is not None and child.process.stdout is not None
            for question in asked:
                child.process.stdin.write(question.replace("\n", " ").encode() + b"\n")
                child.process.stdin.flush()
                if not child.process.stdout.readline():
                    raise RuntimeError(f"a worker exited before answering: {child.output()[-2000:]}")
        time.sleep(0.5)
        return [pss(child.pid) for child in children]
    finally:
        for child in children:
            if child.process.stdin is not None:
                child.process.stdin.close()
            child.stop(None, timeout=30)  # each ends at the end of its input


def run(*, quick: bool = False, full: bool = False) -> Section:
    section = Section("endtoend")
    sizes = QUICK_SIZES if quick else FULL_SIZES if full else SIZES
    model = open_encoder(scale_model())
    base = model.documents(synth.word_windows(500 if quick else BASES))
    points = []
    with tempfile.TemporaryDirectory(prefix="bench-endtoend-") as tmp:
        for size in sizes:
            root = Path(tmp) / str(size)
            corpus, index_dir, build_s = build_index(root, size, MixedVectors(model, base))
            engine = Engine(EngineConfig(corpus_dir=corpus, index_dir=index_dir, model=model.name, cache_size=0), model)
            engine.load(build=False)
            index = engine.index
            stored, kind = index.vectors.ntotal, describe(index.vectors)
            times = measure_ask(engine, 2 if quick else ROUNDS)
            ask_p50, ask_p99 = ms(times["ask"])
            floor_p50, floor_p99 = ms(times["floor"])
            faiss_p50, faiss_p99 = ms(times["faiss"])
            bm25_p50, bm25_p99 = ms(times["bm25"])
            n = len(times["ask"])
            big = size >= 1_000_000
            points.append(
                {
                    "sentences": stored,
                    "paragraphs": len(index.paragraphs),
                    "vector_index": kind,
                    "build_s": build_s,
                    "ask_p50_ms": ask_p50,
                    "ask_p99_ms": ask_p99,
                    "floor_p50_ms": floor_p50,
                    "faiss_p50_ms": faiss_p50,
                    "bm25_p50_ms": bm25_p50,
                }
            )
            label = f"{stored:,} sentences"
            section.rows += [
                Row(
                    "End to end",
                    f"{label}: ask ({model.name})",
                    "ms",
                    ask_p50,
                    ask_p99,
                    "encode floor",
                    floor_p50,
                    f"p50 <= {TARGET_P50_MS:g}, p99 <= {TARGET_P99_MS:g}" if big else "",
                    (ask_p50 <= TARGET_P50_MS and ask_p99 <= TARGET_P99_MS) if big else None,
                    n,
                    f"answer cache off; {len(index.paragraphs):,} paragraphs, {kind}; "
                    f"index written in {build_s:.0f} s, passage vectors mixed from encoded text",
                ),
                Row("End to end", f"{label}: baseline: encode one question", "ms", floor_p50, floor_p99, samples=n),
                Row(
                    "End to end",
                    f"{label}: FAISS alone, top {min(CANDIDATES, stored)}",
                    "ms",
                    faiss_p50,
                    faiss_p99,
                    samples=n,
                    note=f"{kind}, one thread",
                ),
                Row(
                    "End to end",
                    f"{label}: BM25 alone, top {min(CANDIDATES, stored)}",
                    "ms",
                    bm25_p50,
                    bm25_p99,
                    samples=n,
                    note="LexicalIndex.top: each word's best postings, over mapped files",
                ),
            ]
            if size == sizes[-1]:
                section.rows += processes_at(index_dir, corpus, label, quick=quick, big=big)
            del engine, index
    section.series = {"points": points}
    return section


def processes_at(index: Path, corpus: Path, label: str, *, quick: bool, big: bool) -> list[Row]:
    """Cold start and two workers' memory over the index in ``index``."""
    runs = 2 if quick else 3
    seconds, peaks = cold_start(index, corpus, runs)
    cold = percentile(seconds, 50)
    asked = questions() + synth.word_windows(20 if quick else WORKER_QUESTIONS, seed=3)
    one = serving_memory(index, corpus, 1, asked)
    two = serving_memory(index, corpus, 2, asked)
    alone, together = one[0]["pss_mb"], sum(worker["pss_mb"] for worker in two)
    ratio = together / alone

    def about(worker: dict[str, float]) -> str:
        return f"heap {worker['anon_mb']:.0f} MB + mapped files {worker['file_mb']:.0f} MB"

    return [
        Row(
            "End to end",
            f"{label}: CLI process start → first answer",
            "s",
            cold,
            max(seconds),
            "",
            None,
            f"<= {TARGET_COLD_S:g} s" if big else "",
            cold <= TARGET_COLD_S if big else None,
            runs,
            f"peak RSS {max(peaks):.0f} MB; page cache warm; p99 column is the slowest run",
        ),
        Row(
            "End to end",
            f"{label}: memory (PSS) of one worker",
            "MB",
            alone,
            None,
            samples=1,
            note=f"after {len(asked)} questions; {about(one[0])}",
        ),
        Row(
            "End to end",
            f"{label}: memory (PSS) of two workers together",
            "MB",
            together,
            None,
            "one worker",
            alone,
            f"<= {TARGET_PSS_RATIO}x one" if big else "",
            ratio <= TARGET_PSS_RATIO if big else None,
            2,
            f"each after the same {len(asked)} questions; " + "; ".join(about(w) for w in two),
        ),
    ]
