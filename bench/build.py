"""Index build throughput: paragraphs per second for synthetic corpora, with peak memory.

Each size is built in a fresh process (``python -m bench.build SIZE``) so its peak resident
memory (VmHWM) is its own: the whole ``reindex`` path, from reading the corpus folder to the
published index directory. The baseline is the bare encode, with the model already loaded, of
every text a build embeds (each sentence, each sentence after its document's title, each
paragraph) with the same model: the floor of any build. The model is ``use-multilingual``
(``EMBEDDING_MODEL`` picks another): E5 builds about 2 paragraphs a second here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import synth
from bench.common import PROJECT, Row, Section, scale_model
from bench.processes import memory
from index.encoders import BATCH

TARGET_PARAGRAPHS_PER_S = 100.0
# A 100k-paragraph build takes about 7 minutes at the default model's speed, most of what the
# whole benchmark may take; ``make bench`` runs up to this size, ``--full`` runs 100k.
DEFAULT_SIZES = (1_000, 10_000)
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (200,)
FLOOR_SAMPLE = 10_000


def measure(size: int) -> dict[str, Any]:
    """Build an index over ``size`` synthetic paragraphs in this process; the figures."""
    from index import Engine, EngineConfig, load_corpus
    from index.encoders import open_encoder
    from index.passages import rows_of
    from index.search import titled

    encoder = open_encoder(scale_model())
    encoder.documents(synth.sentences(2 * BATCH))  # warm: worker threads started, first allocations made
    loaded_mb = memory().rss_mb
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        corpus_dir = Path(tmp) / "corpus"
        synth.write_corpus(corpus_dir, size)
        # The floor first: every encoder pass a build makes (sentences, sentences after their
        # document's title, whole paragraphs) over at most FLOOR_SAMPLE paragraphs, with the
        # model loaded and warm; the median of three runs for small corpora, so one hiccup of
        # a shared machine does not set it.
        corpus = load_corpus(corpus_dir)
        sample = corpus.paragraphs[:FLOOR_SAMPLE]
        titles = {d.name: d.title for d in corpus.documents}
        passes = [
            [s for p in sample for s in rows_of(p)],
            [titled(titles[p.source], s) for p in sample for s in rows_of(p)],
            [p.text for p in sample],
        ]
        del corpus
        rates = []
        for _ in range(3 if len(sample) <= 1_000 else 1):
            started = time.perf_counter()
            for texts in passes:
                encoder.documents(texts)
            rates.append(len(sample) / (time.perf_counter() - started))
        encode_rate = sorted(rates)[len(rates) // 2]
        del passes, sample
        engine = Engine(EngineConfig(corpus_dir=corpus_dir, index_dir=Path(tmp) / "index", model=encoder.name), encoder)
        report = engine.reindex()
        index_type = type(engine.index.vectors).__name__
    return {
        "model": encoder.name,
        "paragraphs": report.paragraphs,
        "sentences": report.sentences,
        "seconds": report.seconds,
        "encode_paragraphs_per_s": encode_rate,
        "peak_mb": memory().peak_mb,
        "model_loaded_mb": loaded_mb,
        "vector_index": index_type,
    }


def run(*, quick: bool = False, full: bool = False) -> Section:
    section = Section("build")
    sizes = QUICK_SIZES if quick else FULL_SIZES if full else DEFAULT_SIZES
    points = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.build", str(size)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rate = result["paragraphs"] / result["seconds"]
        floor_rate = result["encode_paragraphs_per_s"]
        points.append({"size": size, **result, "paragraphs_per_s": rate})
        section.rows.append(
            Row(
                "Index build",
                f"{size:,} paragraphs ({result['sentences']:,} sentences)",
                "paragraphs/s",
                rate,
                None,
                "encode only",
                floor_rate,
                f">= {TARGET_PARAGRAPHS_PER_S:g} paragraphs/s",
                rate >= TARGET_PARAGRAPHS_PER_S,
                1,
                f"{result['model']}; {result['seconds']:.1f} s, peak RSS {result['peak_mb']:.0f} MB "
                f"(model alone {result['model_loaded_mb']:.0f} MB), {result['vector_index']}",
            )
        )
    if not full and not quick:
        section.skipped = (
            "100,000 paragraphs: about 7 minutes more at this speed; run `python -m bench --only build --full`"
        )
    section.series = {"points": points}
    return section


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]))))
