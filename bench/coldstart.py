"""Cold start: process start to the first answer (CLI) and to ``/readyz`` 200 (webhook server).

Each measurement is a new process over an index built beforehand (a warm-up run builds it
and warms the page cache), so what is timed is imports, model load and index load. Baselines
in the same run: the bare interpreter (``python -c pass``) and importing torch with
sentence-transformers, which is what answering cost before the default model skipped them.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench.common import Row, Section, percentile
from bench.processes import ask, memory, wall
from tests.support.paths import article_corpus

TARGET_SECONDS = 8.0
TARGET_RSS_MB = 800.0


def cli(runs: int) -> Section:
    section = Section("coldstart-cli")
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        index, corpus = Path(tmp) / "index", article_corpus(Path(tmp))
        ask(index, corpus)  # builds the index, warms the page cache
        interpreter, imports, answers, peaks = [], [], [], []
        for _ in range(runs):
            interpreter.append(wall(folder=Path(tmp), code="pass")[0])
            imports.append(wall(folder=Path(tmp), code="import torch, sentence_transformers")[0])
            seconds, peak = ask(index, corpus)
            answers.append(seconds)
            peaks.append(peak)
    median = percentile(answers, 50)
    section.rows += [
        Row(
            "Cold start",
            "CLI: process start → first answer",
            "s",
            median,
            max(answers),
            "import torch + sentence-transformers",
            percentile(imports, 50),
            f"<= {TARGET_SECONDS:g} s",
            median <= TARGET_SECONDS,
            runs,
            f"peak RSS {max(peaks):.0f} MB; p99 column is the slowest run",
        ),
        Row("Cold start", "baseline: python -c pass", "s", percentile(interpreter, 50), max(interpreter), samples=runs),
        Row(
            "Cold start",
            "baseline: import torch + sentence-transformers",
            "s",
            percentile(imports, 50),
            max(imports),
            samples=runs,
        ),
    ]
    section.series = {"cli_s": answers, "interpreter_s": interpreter, "imports_s": imports}
    return section


def server(runs: int) -> Section:
    """``python -m bot serve`` as a webhook against a stub Bot API: time to /readyz 200, idle RSS."""
    from tests.support.botapi import BotApiStub
    from tests.support.processes import serve_bot

    section = Section("coldstart-server")
    readies, idle = [], []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp, BotApiStub() as api:
        index, corpus = Path(tmp) / "index", article_corpus(Path(tmp))
        ask(index, corpus)  # builds the index
        for _ in range(runs):
            started = time.perf_counter()
            with serve_bot(api, Path(tmp), corpus=corpus, index=index, env={"LOG_LEVEL": "WARNING"}) as server:
                server.wait_ready()
                readies.append(time.perf_counter() - started)
                time.sleep(1.0)
                idle.append(memory(server.pid).rss_mb)
    median = percentile(readies, 50)
    rss = percentile(idle, 50)
    section.rows += [
        Row(
            "Cold start",
            "server: process start → /readyz 200",
            "s",
            median,
            max(readies),
            "",
            None,
            f"<= {TARGET_SECONDS:g} s",
            median <= TARGET_SECONDS,
            runs,
            "p99 column is the slowest run",
        ),
        Row(
            "Cold start",
            "server: idle RSS after ready",
            "MB",
            rss,
            max(idle),
            "",
            None,
            f"<= {TARGET_RSS_MB:g} MB",
            rss <= TARGET_RSS_MB,
            runs,
        ),
    ]
    section.series = {"ready_s": readies, "idle_rss_mb": idle}
    return section


def run(*, quick: bool = False, with_server: bool = True) -> Section:
    runs = 2 if quick else 5
    section = cli(runs)
    if with_server:
        try:
            other = server(runs)
        except Exception as exc:
            section.skipped = f"server cold start failed: {exc}"
        else:
            section.rows += other.rows
            section.series.update(other.series)
    return section


if __name__ == "__main__":
    print(json.dumps([row.to_json() for row in run(quick=True).rows], indent=2))
