"""``python -m bench [--quick] [--full] [--only NAME ...]``: run the benchmarks, print and write the table."""

from __future__ import annotations

import argparse
import logging
import sys
import time

from bench.common import RESULTS, Section, machine

# Scale runs last: its gigabytes of vectors would otherwise sit in the parent of every
# process the cold-start and bot benchmarks start.
NAMES = ("latency", "build", "coldstart", "bot", "scale")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tiny version of each benchmark (a smoke test)")
    parser.add_argument("--full", action="store_true", help="also build the 100k-paragraph index (~15 min more)")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES), help="run only these")
    parser.add_argument("--out", default=str(RESULTS), help="where results.md, results.json and plots go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    import bm25s  # noqa: F401 - it sets up its logger on import; quieten it after

    for noisy in ("bm25s", "faiss", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("index.engine").setLevel(logging.ERROR)  # "rebuilding the index" is expected here

    from pathlib import Path

    from bench import report

    started = time.perf_counter()
    about = machine()
    encoder = None
    sections: list[Section] = []
    for name in NAMES:
        if name not in args.only:
            continue
        print(f"-- {name}", file=sys.stderr, flush=True)
        began = time.perf_counter()
        if name in ("latency", "scale") and encoder is None:
            from index.encoders import DEFAULT_MODEL, Encoder

            encoder = Encoder.open(DEFAULT_MODEL)
        if name == "latency":
            from bench import latency

            section = latency.run(encoder, quick=args.quick)  # type: ignore[arg-type]
        elif name == "build":
            from bench import build

            section = build.run(quick=args.quick, full=args.full)
        elif name == "scale":
            from bench import scale

            section = scale.run(encoder, quick=args.quick)  # type: ignore[arg-type]
        elif name == "coldstart":
            from bench import coldstart

            section = coldstart.run(quick=args.quick)
        else:
            from bench import bot

            section = bot.run(quick=args.quick)
        section.seconds = time.perf_counter() - began
        print(f"   {section.seconds:.0f} s", file=sys.stderr, flush=True)
        sections.append(section)
    command = "python -m bench" + " ".join(["", *sys.argv[1:]] if argv is None else ["", *argv])
    text = report.write(sections, about, Path(args.out), command=command.strip(), seconds=time.perf_counter() - started)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
