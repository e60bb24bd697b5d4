"""Search at scale: exact against approximate FAISS search over 10k, 100k and 1M vectors.

The vectors are real-ish, not uniform noise: 4,000 runs of words from the article and the
background text are encoded with the default model, and each stored vector (and each query)
is a random mix of two of them plus Gaussian noise of the same norm, normalised. Mixing
spreads the vectors over the model's space instead of into 4,000 tight clusters, which
would make any inverted list look perfect. Uniform random unit vectors are the wrong test in
the other direction: in 512 dimensions their nearest neighbours are barely nearer than any
other vector, which no sentence embedding looks like.

Both indexes are queried one vector at a time, as the engine does, with one FAISS thread
(see ``index.search``). Recall@3 is the share of exact top-3 ids the approximate index
returns. The engine's own choice is measured at every size too, by building the index with
``index.vectors.make_vector_index`` as a build does: exact below ``APPROXIMATE_FROM``
vectors, approximate from there.
"""

from __future__ import annotations

import time

import faiss
import numpy as np

from bench import synth
from bench.common import Row, Section, ms
from index.encoders import Encoder
from index.vectors import APPROXIMATE_FROM, approximate_index, describe, make_vector_index, one_thread

SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 2_000)
QUERIES = 200
EXACT_TIMED = {10_000: 200, 100_000: 100, 1_000_000: 30}  # single exact searches timed per size
TARGET_MS = 5.0
TARGET_RECALL = 0.99
BASES = 4_000


def realish(base: np.ndarray, count: int, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
    """``count`` unit vectors, each a random mix of two rows of ``base`` plus noise."""
    dimension = base.shape[1]
    out = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, 100_000):
        stop = min(count, start + 100_000)
        n = stop - start
        i = rng.integers(0, len(base), n)
        j = rng.integers(0, len(base), n)
        w = rng.random(n, dtype=np.float32)[:, None]
        block = w * base[i] + (1 - w) * base[j]
        block += (noise / np.sqrt(dimension)) * rng.standard_normal((n, dimension), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start:stop] = block
    return out


def _single(index: faiss.Index, queries: np.ndarray) -> tuple[list[float], np.ndarray]:
    """Per-query latencies and top-3 ids, one query at a time on one thread."""
    times: list[float] = []
    ids = np.empty((len(queries), 3), dtype=np.int64)
    with one_thread():
        for i in range(len(queries)):
            started = time.perf_counter()
            _, found = index.search(queries[i : i + 1], 3)
            times.append(time.perf_counter() - started)
            ids[i] = found[0]
    return times, ids


def recall_at_3(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / 3 for f, t in zip(found, truth, strict=True)]))


def run(encoder: Encoder, *, quick: bool = False) -> Section:
    section = Section("scale")
    sizes = QUICK_SIZES if quick else SIZES
    rng = np.random.default_rng(11)
    started = time.perf_counter()
    base = encoder.documents(synth.word_windows(500 if quick else BASES))
    vectors = realish(base, max(sizes), rng)
    queries = realish(base, 50 if quick else QUERIES, rng)
    generate_s = time.perf_counter() - started
    points = []
    for size in sizes:
        data = vectors[:size]
        exact = faiss.IndexFlatIP(data.shape[1])
        exact.add(data)
        _, truth = exact.search(queries, 3)  # batched: BLAS, fast
        timed = min(len(queries), EXACT_TIMED.get(size, len(queries)))
        exact_times, exact_ids = _single(exact, queries[:timed])
        assert recall_at_3(exact_ids, truth[:timed]) > 0.999  # single and batched exact agree

        began = time.perf_counter()
        approx = approximate_index(data)
        build_s = time.perf_counter() - began
        approx_times, approx_ids = _single(approx, queries)
        recall = recall_at_3(approx_ids, truth)
        kind = describe(approx)
        del approx, exact

        chosen = make_vector_index(data)  # the engine's own factory, as a build calls it
        engine_kind = describe(chosen)
        engine_times, engine_ids = _single(chosen, queries)
        engine_recall = recall_at_3(engine_ids, truth)
        del chosen

        exact_p50, exact_p99 = ms(exact_times)
        approx_p50, approx_p99 = ms(approx_times)
        engine_p50, engine_p99 = ms(engine_times)
        points.append(
            {
                "vectors": size,
                "exact_p50_ms": exact_p50,
                "exact_p99_ms": exact_p99,
                "approx_p50_ms": approx_p50,
                "approx_p99_ms": approx_p99,
                "recall_at_3": recall,
                "approx_kind": kind,
                "approx_build_s": build_s,
                "engine_p50_ms": engine_p50,
                "engine_recall_at_3": engine_recall,
                "engine_uses": engine_kind,
            }
        )
        big = size >= 1_000_000
        section.rows += [
            Row(
                "Search at scale",
                f"{size:,} vectors: exact (IndexFlatIP)",
                "ms",
                exact_p50,
                exact_p99,
                samples=timed,
                note="one query, one thread",
            ),
            Row(
                "Search at scale",
                f"{size:,} vectors: {kind}",
                "ms",
                approx_p50,
                approx_p99,
                "exact",
                exact_p50,
                f"p50 <= {TARGET_MS:g} ms, recall@3 >= {TARGET_RECALL}" if big else "",
                (approx_p50 <= TARGET_MS and recall >= TARGET_RECALL) if big else None,
                len(queries),
                f"recall@3 {recall:.3f}; built in {build_s:.1f} s",
            ),
            Row(
                "Search at scale",
                f"{size:,} vectors: engine's choice, {engine_kind}",
                "ms",
                engine_p50,
                engine_p99,
                "exact",
                exact_p50,
                f"recall@3 >= {TARGET_RECALL}",
                engine_recall >= TARGET_RECALL,
                len(queries),
                f"recall@3 {engine_recall:.3f}; index.vectors.make_vector_index, "
                f"approximate from {APPROXIMATE_FROM:,} vectors",
            ),
        ]
    section.series = {
        "points": points,
        "approximate_from": APPROXIMATE_FROM,
        "generate_s": generate_s,
        "omp_threads": faiss.omp_get_max_threads(),
    }
    return section
