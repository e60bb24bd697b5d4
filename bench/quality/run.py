"""``python -m bench.quality``: build the engines, ask every question once, print and write the figures.

Exit status 0 when every target is met, 1 when one is not (the tables are written either way).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.quality import data, dialogues
from bench.quality.baselines import baselines
from bench.quality.data import ARTICLE, EVAL_DIR, FILES, PROJECT, SETS, Question
from bench.quality.report import render, to_json
from bench.quality.scoring import (
    ENGINE,
    Breakdown,
    K,
    Result,
    Tables,
    breakdown,
    first_hit,
    marks_answer,
    tabulate,
)
from bench.quality.targets import Check, Gap, check_all, gaps
from index import Engine, EngineConfig, QuestionError
from index.encoders import DEFAULT_MODEL, Encoder

RESULTS = PROJECT / "bench" / "results"
WORKERS = 2


def load_sets(eval_dir: Path = EVAL_DIR, names: Iterable[str] = SETS) -> dict[str, list[Question]]:
    """The chosen question sets, in the order of ``SETS``."""
    names = set(names)
    sets: dict[str, list[Question]] = {}
    if "qa_dev" in names:
        sets["qa_dev"] = data.qa_dev(data.load_json(eval_dir / FILES["qa_dev"]))
    if "qa_dev_v2" in names:
        sets["qa_dev_v2"] = data.qa_dev_v2(data.load_json(eval_dir / FILES["qa_dev_v2"]), ARTICLE.name)
    if "newsroom" in names:
        sets["newsroom"] = data.newsroom(data.load_json(eval_dir / FILES["newsroom"]))
    if names & {"squad", "squad-vs-article"}:
        own, elsewhere = data.squad(data.load_json(eval_dir / FILES["squad"]))
        if "squad" in names:
            sets["squad"] = own
        if "squad-vs-article" in names:
            sets["squad-vs-article"] = elsewhere
    return sets


def first_of_each_kind(sets: dict[str, list[Question]], limit: int) -> dict[str, list[Question]]:
    """Each set cut to its first ``limit`` questions of each kind, in file order: both halves from
    two on, since halves alternate within each kind."""
    cut: dict[str, list[Question]] = {}
    for name, questions in sets.items():
        seen: dict[str, int] = {}
        cut[name] = []
        for question in questions:
            seen[question.kind] = seen.get(question.kind, 0) + 1
            if seen[question.kind] <= limit:
                cut[name].append(question)
    return cut


def open_engine(
    corpus_dir: Path, index_dir: Path, encoder: Encoder | None = None, model: str = DEFAULT_MODEL
) -> Engine:
    """A real engine over ``corpus_dir`` with ``model`` (``encoder``, when given, is reused)."""
    config = EngineConfig(corpus_dir=corpus_dir, index_dir=index_dir, model=model)
    if encoder is None:
        return Engine.open(config)
    engine = Engine(config, encoder)
    engine.load()
    return engine


@dataclass
class Engines:
    """The engine each set is asked on: the article alone, the SQuAD articles, the newsroom corpus."""

    article: Engine
    squad: Engine | None = None
    newsroom: Engine | None = None

    def for_set(self, name: str) -> Engine:
        engine = {"squad": self.squad, "newsroom": self.newsroom}.get(name, self.article)
        if engine is None:
            raise ValueError(f"the {name} set needs its own engine")
        return engine


def open_engines(root: Path, *, squad: bool = True, newsroom: bool = True, model: str = DEFAULT_MODEL) -> Engines:
    """Engines over the article and, when asked for, over the SQuAD articles (checked paragraph for
    paragraph) and over the newsroom corpus (the article among the team's), built in folders under
    ``root`` with one loaded model."""
    article = open_engine(article_corpus(root / "article" / "corpus"), root / "article" / "index", model=model)
    engines = Engines(article)
    if squad:
        expected = data.write_squad_corpus(data.load_json(EVAL_DIR / FILES["squad"]), root / "squad" / "corpus")
        engines.squad = open_engine(root / "squad" / "corpus", root / "squad" / "index", article.encoder, model)
        data.check_corpus(engines.squad.sources(), expected)
    if newsroom:
        names = data.write_newsroom_corpus(root / "newsroom" / "corpus")
        engines.newsroom = open_engine(
            root / "newsroom" / "corpus", root / "newsroom" / "index", article.encoder, model
        )
        if sorted(d.name for d in engines.newsroom.sources()) != sorted(names):
            raise data.DataError("the newsroom engine did not index every newsroom article")
    return engines


def article_corpus(folder: Path) -> Path:
    """A corpus folder holding only the repository's article."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ARTICLE, folder / ARTICLE.name)
    return folder


def ask_all(engine: Engine, questions: Sequence[Question], workers: int = WORKERS) -> list[Result]:
    """Every question through ``engine.ask`` (k = K), a few at a time; a question the engine
    rejects (empty, too long) counts as refused and is marked with the reason."""

    def one(question: Question) -> Result:
        try:
            answer = engine.ask(question.text, k=K)
        except QuestionError as exc:
            return Result(question, ENGINE, None, "refused", str(exc))
        rank = first_hit(answer.passages, question.gold)
        first = answer.passages[0].source if answer.passages else None
        marked = marks_answer(answer.passages, question)
        return Result(question, ENGINE, rank, answer.outcome, marked=marked, first=first)

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="quality") as pool:
        return list(pool.map(one, questions))


def measure(
    engines: Engines, sets: dict[str, list[Question]], workers: int = WORKERS
) -> tuple[list[Result], dict[str, float]]:
    """Engine and baseline results for every set (each on its own engine), and seconds per step."""
    results: list[Result] = []
    seconds: dict[str, float] = {}
    for name, questions in sets.items():
        engine = engines.for_set(name)
        documents = engine.sources()
        data.check_gold(questions, documents)
        started = time.perf_counter()
        results += ask_all(engine, questions, workers)
        seconds[f"{name}: engine"] = time.perf_counter() - started
        started = time.perf_counter()
        paragraphs = [p for d in documents for p in d.paragraphs]
        if [(p.source, p.number) for p in engine.index.paragraphs] != [(p.source, p.number) for p in paragraphs]:
            raise data.DataError("the index's paragraphs are not the documents' paragraphs")
        results += baselines(engine.encoder, paragraphs, questions, engine.index.paragraph_vectors)
        seconds[f"{name}: baselines"] = time.perf_counter() - started
    return results, seconds


@dataclass
class Evaluation:
    """Every figure computed from a run's results."""

    results: list[Result] = field(repr=False)
    tables: Tables
    languages: Breakdown
    styles: Breakdown
    gaps: list[Gap]
    checks: list[Check]
    leaks: list[tuple[str, str]] = field(default_factory=list)
    articles: Breakdown = field(default_factory=dict)  # answerable questions by the article that answers them

    @property
    def parts(self) -> tuple[Tables, Breakdown, Breakdown, list[Gap], list[Check]]:
        """What ``render`` and ``to_json`` take, in their order."""
        return self.tables, self.languages, self.styles, self.gaps, self.checks

    @property
    def met(self) -> bool:
        return all(c.passed is not False for c in self.checks)


def evaluate(results: list[Result], leaks: list[tuple[str, str]] | None = None) -> Evaluation:
    """Tables, breakdowns, gaps and target checks of ``results``; ``leaks`` fail a check of their own."""
    tables = tabulate(results)
    languages = breakdown(results, lambda q: q.lang)
    styles = breakdown(results, lambda q: q.style or "-")
    articles = breakdown(results, lambda q: q.document or "-")
    checks = check_all(tables, languages)
    if leaks is not None:
        message = "; ".join(f"{name}: {question!r}" for name, question in leaks[:5]) or "none found"
        checks.append(Check("no eval question copied into index/", float(len(leaks)), 0.0, not leaks, message))
    return Evaluation(results, tables, languages, styles, gaps(tables), checks, leaks or [], articles)


def _preamble(command: str, model: str, seconds: dict[str, float], questions: int) -> list[str]:
    asked = sum(v for k, v in seconds.items() if k.endswith(": engine"))
    files = ", ".join(f"{f} {data.fingerprint(EVAL_DIR / f)}" for f in FILES.values())
    return [
        f"Command: `{command}`; model `{model}`; data (sha256 prefix): {files}.",
        "Halves: tune = even positions (0, 2, ...) of each list in file order, check = odd positions; "
        "SQuAD's answerable and impossible questions are split each by their own position.",
        f"Engine rows: `Engine.ask(question, k={K})`, every question once per corpus. A question is found at rank r "
        "when the r-th passage is a gold paragraph (qa_dev: contains a gold substring). MRR@3 = mean of 1/r "
        f"over the answerable questions (0 when not in the top {K}). Answer sentence marked = of the answerable "
        "questions whose first passage is right, the share whose marked sentence holds the answer's words (the "
        "set's gold strings; SQuAD's answer texts). Baselines rank whole paragraphs and never refuse; a gold "
        "paragraph tied with others ranks after them.",
        f"{questions} engine questions in {asked:.1f} s ({1000 * asked / max(questions, 1):.1f} ms each); "
        + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items() if not k.endswith(": engine")),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write every figure as JSON to this file")
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="only these question sets")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where quality.md and quality.json go")
    parser.add_argument("--workers", type=int, default=WORKERS, help="questions asked at once")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the embedding model (default: the engine's)")
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="only the first N questions of each kind in each set and the first N dialogues: a quick run "
        "that shows the report is written, whose figures mean little",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # imported (with baselines) at DEBUG
    logging.getLogger("index.engine").setLevel(logging.ERROR)  # "rebuilding the index" is expected here
    started = time.perf_counter()

    sets = load_sets(names=args.sets)
    if args.limit is not None:
        sets = first_of_each_kind(sets, args.limit)
    with tempfile.TemporaryDirectory(prefix="quality-") as tmp:
        built = time.perf_counter()
        engines = open_engines(Path(tmp), squad="squad" in sets, newsroom="newsroom" in sets, model=args.model)
        timings = {"engines built": time.perf_counter() - built}
        results, asked = measure(engines, sets, args.workers)
        timings.update(asked)
        talked = None
        if engines.newsroom is not None:
            started_dialogues = time.perf_counter()
            chats = dialogues.load()[: args.limit] if args.limit is not None else None
            talked = dialogues.figures(dialogues.measure(engines.newsroom, chats))
            timings["dialogues"] = time.perf_counter() - started_dialogues

    questions = [q for qs in sets.values() for q in qs]
    evaluation = evaluate(results, data.find_leaks(questions, PROJECT / "index"))
    seconds = time.perf_counter() - started
    command = " ".join(["python -m bench.quality", *(sys.argv[1:] if argv is None else argv)])
    engine_questions = sum(r.method == ENGINE for r in results)
    preamble = _preamble(command, engines.article.config.model, timings, engine_questions)
    text = render(*evaluation.parts, preamble=preamble, seconds=seconds, articles=evaluation.articles)
    if talked is not None:
        text += "\n" + dialogues.render(talked)
    print(text)

    figures: dict[str, Any] = to_json(
        *evaluation.parts, articles=evaluation.articles, command=command, seconds=seconds, timings=timings
    )
    if talked is not None:
        figures["dialogues"] = dialogues.to_json(talked)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.md").write_text(text, "utf-8")
    payload = json.dumps(figures, indent=1, ensure_ascii=False) + "\n"
    (args.out / "quality.json").write_text(payload, "utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(payload, "utf-8")
    return 0 if evaluation.met else 1
