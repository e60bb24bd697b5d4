"""Index build time against its encode floor, with peak memory, for a synthetic corpus and the default model.

Each size is built in a fresh process (``python -m bench.build SIZE``) so its peak resident
memory (VmHWM) is its own: the whole ``reindex`` path, from reading the corpus folder to the
published index directory. The baseline is the encode floor: the encoder's own time, with the
model loaded and warm, for exactly the texts the build encodes, made in the same calls (every
sentence, every sentence after its document's title, every paragraph, and the background
text as passages and as questions). A dry run of the build with an encoder of zero vectors
records those calls; the floor is measured just before and just after the real build, and
their mean is the baseline, so a change in the machine's load during the run shows as the
gap between the two. Whatever the build spends above the floor is the cost of everything
else: reading the corpus, BM25, FAISS, hubness, writing the files.

The model is the engine's default (``multilingual-e5-small``, about 35 texts a second on
2 cores): 200 paragraphs take about two minutes, floor included. ``run(model=...)`` builds with
another (the smoke test's quick run takes a faster one).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import synth
from bench.common import Row, Section
from bench.encoding import Blank, Recording, replay
from bench.processes import memory
from index.encoders import BATCH, DEFAULT_MODEL

TARGET_RATIO = 1.15  # a build may take at most this many times its encode floor
DEFAULT_SIZES = (200,)
FULL_SIZES = (200, 1_000)
QUICK_SIZES = (20,)


def measure(size: int, model: str = DEFAULT_MODEL) -> dict[str, Any]:
    """Build an index over ``size`` synthetic paragraphs in this process with ``model``; the figures."""
    from index import Engine, EngineConfig
    from index.encoders import open_encoder

    encoder = open_encoder(model)
    encoder.documents(synth.sentences(2 * BATCH))  # warm: worker threads started, first allocations made
    loaded_mb = memory().rss_mb
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        corpus_dir = Path(tmp) / "corpus"
        synth.write_corpus(corpus_dir, size)
        dry = Recording(Blank(encoder.name, encoder.dimension))
        Engine(EngineConfig(corpus_dir=corpus_dir, index_dir=Path(tmp) / "dry", model=encoder.name), dry).reindex()
        before = replay(encoder, dry.calls)
        recording = Recording(encoder)
        engine = Engine(
            EngineConfig(corpus_dir=corpus_dir, index_dir=Path(tmp) / "index", model=encoder.name), recording
        )
        report = engine.reindex()
        after = replay(encoder, dry.calls)
        if recording.calls != dry.calls:
            raise RuntimeError("the build encoded other texts than its dry run")
        index_type = type(engine.index.vectors).__name__
    return {
        "model": encoder.name,
        "paragraphs": report.paragraphs,
        "sentences": report.sentences,
        "seconds": report.seconds,
        "texts": recording.texts,
        "floor_seconds": (before + after) / 2,
        "floor_before": before,
        "floor_after": after,
        "peak_mb": memory().peak_mb,
        "model_loaded_mb": loaded_mb,
        "vector_index": index_type,
    }


def run(*, quick: bool = False, full: bool = False, model: str = DEFAULT_MODEL) -> Section:
    from tests.support import processes  # not at the top: ``python -m bench.build`` measures its own memory

    section = Section("build")
    sizes = QUICK_SIZES if quick else FULL_SIZES if full else DEFAULT_SIZES
    points = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
            out = processes.run(str(size), model, module="bench.build", folder=Path(tmp), timeout=3600)
        if out.returncode != 0:
            raise RuntimeError(f"python -m bench.build {size} failed: {out.stderr[-2000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        seconds, floor = result["seconds"], result["floor_seconds"]
        points.append(
            {
                "size": size,
                **result,
                "paragraphs_per_s": result["paragraphs"] / seconds,
                "encode_paragraphs_per_s": result["paragraphs"] / floor,
            }
        )
        section.rows.append(
            Row(
                "Index build",
                f"full build, {size:,} paragraphs ({result['sentences']:,} sentences, {result['texts']:,} texts)",
                "s",
                seconds,
                None,
                "encode floor",
                floor,
                f"<= {TARGET_RATIO:g}x encode floor",
                seconds <= TARGET_RATIO * floor,
                1,
                f"{size / seconds:.2f} paragraphs/s against the floor's {size / floor:.2f}; "
                f"{result['model']}; floor {result['floor_before']:.1f} s before the build, "
                f"{result['floor_after']:.1f} s after; peak RSS {result['peak_mb']:.0f} MB "
                f"(model alone {result['model_loaded_mb']:.0f} MB), {result['vector_index']}",
            )
        )
    if not full and not quick:
        section.skipped = "1,000 paragraphs: about 8 minutes more; run `python -m bench --only build --full`"
    section.series = {"points": points}
    return section


if __name__ == "__main__":
    import logging

    logging.disable(logging.WARNING)  # "rebuilding the index" is expected; stdout carries the JSON
    print(json.dumps(measure(int(sys.argv[1]), *sys.argv[2:3])))
