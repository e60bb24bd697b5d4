"""``python -m bench [--quick] [--full] [--only NAME ...]``: run the benchmarks, print and write the table."""

from __future__ import annotations

import argparse
import functools
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import RESULTS, Section, machine

if TYPE_CHECKING:
    from index.encoders import Encoder


@dataclass
class Options:
    """What a benchmark is run with: the flags, and one encoder shared by those that need it."""

    quick: bool
    full: bool

    @functools.cached_property
    def encoder(self) -> Encoder:
        """The default model, opened by the first benchmark that asks for it."""
        from index.encoders import DEFAULT_MODEL, open_encoder

        return open_encoder(DEFAULT_MODEL)


# Each runner imports its module when it runs: ``--help`` and ``--only bot`` load no model and no FAISS.
def _latency(options: Options) -> Section:
    from bench import latency

    return latency.run(options.encoder, quick=options.quick)


def _build(options: Options) -> Section:
    from bench import build

    return build.run(quick=options.quick, full=options.full)


def _incremental(options: Options) -> Section:
    from bench import incremental

    return incremental.run(options.encoder, quick=options.quick)


def _fairness(options: Options) -> Section:
    from bench import fairness

    return fairness.run(options.encoder, quick=options.quick)


def _coldstart(options: Options) -> Section:
    from bench import coldstart

    return coldstart.run(quick=options.quick)


def _bot(options: Options) -> Section:
    from bench import bot

    return bot.run(quick=options.quick)


def _endtoend(options: Options) -> Section:
    from bench import endtoend

    return endtoend.run(quick=options.quick, full=options.full)


def _scale(options: Options) -> Section:
    from bench import scale
    from bench.common import scale_model
    from index.encoders import open_encoder

    return scale.run(open_encoder(scale_model()), quick=options.quick)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark: what it measures, and how to run it."""

    about: str
    run: Callable[[Options], Section]


# In the order they run. Scale runs last: its gigabytes of vectors would otherwise sit in the
# parent of every process the cold-start and bot benchmarks start.
BENCHMARKS = {
    "latency": Benchmark("answer latency on the article, against the encode floor and BM25", _latency),
    "build": Benchmark("index build time against its encode floor, and peak memory", _build),
    "incremental": Benchmark("reindex of an unchanged corpus, and one new article to its first answer", _incremental),
    "coldstart": Benchmark("process start to the first answer (CLI) and to /readyz (server)", _coldstart),
    "bot": Benchmark("webhook update in to sendMessage out, latency and throughput", _bot),
    "fairness": Benchmark("one reader's answer while three send the longest questions allowed", _fairness),
    "endtoend": Benchmark("engine.ask, cold start and two workers' memory, 10k to 1M sentences", _endtoend),
    "scale": Benchmark("exact against approximate FAISS search, 10k to 1M vectors", _scale),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog="benchmarks:\n" + "\n".join(f"  {name:<10} {b.about}" for name, b in BENCHMARKS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a tiny version of each benchmark (a smoke test)")
    parser.add_argument(
        "--full", action="store_true", help="also the 100k-paragraph build and 1M sentences end to end (~20 min more)"
    )
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), help="run only these")
    parser.add_argument("--out", default=str(RESULTS), help="where results.md, results.json and plots go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import bm25s  # noqa: F401 - it sets up its logger on import; quieten it after

    for noisy in ("bm25s", "faiss", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("index.engine").setLevel(logging.ERROR)  # "rebuilding the index" is expected here

    from bench import report

    started = time.perf_counter()
    about = machine()
    options = Options(quick=args.quick, full=args.full)
    sections: list[Section] = []
    for name, benchmark in BENCHMARKS.items():
        if name not in args.only:
            continue
        print(f"-- {name}", file=sys.stderr, flush=True)
        began = time.perf_counter()
        section = benchmark.run(options)
        section.seconds = time.perf_counter() - began
        print(f"   {section.seconds:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    command = "python -m bench" + " ".join(["", *sys.argv[1:]] if argv is None else ["", *argv])
    text = report.write(sections, about, Path(args.out), command=command.strip(), seconds=time.perf_counter() - started)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
