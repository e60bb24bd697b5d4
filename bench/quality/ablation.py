"""``python -m bench.quality.ablation``: what each piece of the ranking adds, on both halves.

Every variant scores every paragraph of the corpus for every answerable question from the same
ingredients the engine uses (its encoders and its BM25 tokenizer), so rows differ only in how
the evidence is combined. Fusion by z-scores over the paragraphs, equal weights, except in the
last row: there the weights of the engine's four signals are searched on the **tune** halves
only (every weight in {0, ½, 1}; the best mean recall@1 over the sets, then recall@3, then
fewer signals), and the check halves show whether that choice carries over. Writes
``bench/results/ablation.md``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.quality import data
from bench.quality.baselines import bm25_matrix, languages, ranked_results
from bench.quality.data import ARTICLE, EVAL_DIR, FILES, HALVES, Question
from bench.quality.run import RESULTS, load_sets
from bench.quality.scoring import Result
from index import Paragraph
from index.background import background_texts
from index.documents import parse_document
from index.encoders import E5_MODEL, USE_MODEL, Encoder, open_encoder
from index.lexical import question_tokens, tokenize
from index.passages import rows_of
from index.search import hubness, titled

Features = dict[str, np.ndarray]  # name → (questions, paragraphs)
_WORD = re.compile(r"\w+")


def char_grams(text: str, n: int = 4) -> list[str]:
    """Overlapping character n-grams inside each word, with word boundaries marked
    (McNamee & Mayfield 2004): ``gasdeals`` and ``gas deals`` share most of theirs."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    grams: list[str] = []
    for word in _WORD.findall(folded):
        word = f"_{word}_"
        grams += [word[i : i + n] for i in range(max(1, len(word) - n + 1))]
    return grams


def best_per_paragraph(scores: np.ndarray, owner: np.ndarray, paragraphs: int) -> np.ndarray:
    out = np.full((scores.shape[0], paragraphs), -np.inf, dtype=np.float32)
    for p in range(paragraphs):
        out[:, p] = scores[:, owner == p].max(axis=1)
    return out


def features(
    encoders: dict[str, Encoder], paragraphs: Sequence[Paragraph], titles: dict[str, str], questions: list[str]
) -> Features:
    """Every piece of evidence the variants combine, for each question and paragraph
    (``titles``: each source's document title)."""
    sentences = [(i, s) for i, p in enumerate(paragraphs) for s in rows_of(p)]
    owner = np.array([i for i, _ in sentences])
    windows = [
        (i, " ".join(p.sentences[j : j + 2]))
        for i, p in enumerate(paragraphs)
        for j in range(max(1, len(p.sentences) - 1))
    ]
    n = len(paragraphs)
    out: Features = {}
    e5, use = encoders[E5_MODEL], encoders[USE_MODEL]
    q = e5.queries(questions)
    sentence_vectors = e5.documents([s for _, s in sentences])
    paragraph_vectors = e5.documents([p.text for p in paragraphs])
    sentence_scores = q @ sentence_vectors.T
    out["e5 sentence"] = best_per_paragraph(sentence_scores, owner, n)
    out["e5 paragraph"] = q @ paragraph_vectors.T
    with_titles = [titled(titles[paragraphs[i].source], s) for i, s in sentences]
    out["e5 titled sentence"] = best_per_paragraph(q @ e5.documents(with_titles).T, owner, n)
    out["e5 window"] = best_per_paragraph(
        q @ e5.documents([w for _, w in windows]).T, np.array([i for i, _ in windows]), n
    )
    # CSLS as the engine does it (index.search.hubness): against the background read as questions.
    hub_questions = e5.queries(background_texts())
    out["e5 paragraph, hubness discounted"] = out["e5 paragraph"] - hubness(paragraph_vectors, hub_questions) / 2
    sentence_hubness = hubness(sentence_vectors, hub_questions)
    out["e5 sentence, hubness discounted"] = best_per_paragraph(sentence_scores - sentence_hubness / 2, owner, n)
    u = use.queries(questions)
    out["use sentence"] = best_per_paragraph(u @ use.documents([s for _, s in sentences]).T, owner, n)
    dutch = bm25_matrix([tokenize(s) for _, s in sentences], [tokenize(question) for question in questions])
    out["bm25 sentence"] = best_per_paragraph(dutch, owner, n)
    language = languages(paragraphs)
    own = bm25_matrix(
        [tokenize(s, language[i]) for i, s in sentences], [question_tokens(question) for question in questions]
    )
    out["bm25 sentence, own language"] = best_per_paragraph(own, owner, n)
    out["bm25 char 4-grams"] = bm25_matrix([char_grams(p.text) for p in paragraphs], [char_grams(q) for q in questions])
    return out


def zscores(scores: np.ndarray) -> np.ndarray:
    spread = scores.std(axis=1, keepdims=True)
    return np.where(spread > 1e-9, (scores - scores.mean(axis=1, keepdims=True)) / np.maximum(spread, 1e-9), 0.0)


def fuse(*names: str, weights: Sequence[float] | None = None) -> Callable[[Features], np.ndarray]:
    factors = tuple(weights) if weights is not None else (1.0,) * len(names)
    return lambda f: sum(
        (w * zscores(f[name]) for name, w in zip(names, factors, strict=True) if w), np.zeros_like(f[names[0]])
    )


def reciprocal_rank(*names: str, k: int = 60) -> Callable[[Features], np.ndarray]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009)."""

    def combine(f: Features) -> np.ndarray:
        total = np.zeros_like(f[names[0]])
        for name in names:
            ranks = np.argsort(np.argsort(-f[name], axis=1), axis=1)
            total += 1.0 / (k + ranks + 1)
        return total

    return combine


@dataclass(frozen=True)
class Variant:
    name: str
    score: Callable[[Features], np.ndarray]


CHOSEN = ("e5 sentence", "e5 paragraph", "bm25 sentence")
TITLED = ("e5 sentence", "e5 titled sentence", "e5 paragraph", "bm25 sentence")
# The engine's signals (``index.search.rank``).
SIGNALS = ("e5 sentence", "e5 titled sentence", "e5 paragraph, hubness discounted", "bm25 sentence, own language")
GRID = (0.0, 0.5, 1.0)
VARIANTS = (
    Variant("previous engine: USE best sentence + BM25", fuse("use sentence", "bm25 sentence")),
    Variant("E5 best sentence", fuse("e5 sentence")),
    Variant("E5 whole paragraph", fuse("e5 paragraph")),
    Variant("E5 sentence + paragraph", fuse("e5 sentence", "e5 paragraph")),
    Variant("E5 sentence + paragraph + BM25", fuse(*CHOSEN)),
    Variant("… + E5 sentence after its document's title", fuse(*TITLED)),
    Variant("… with the paragraph's hubness discounted (CSLS)", fuse(*SIGNALS[:-1], "bm25 sentence")),
    Variant("**… and BM25 stemming each document in its language (the engine)**", fuse(*SIGNALS)),
    Variant("… + E5 two-sentence window", fuse(*SIGNALS, "e5 window")),
    Variant("… + BM25 on character 4-grams", fuse(*SIGNALS, "bm25 char 4-grams")),
    Variant("… + USE best sentence", fuse(*SIGNALS, "use sentence")),
    Variant(
        "… with the best sentence's hubness discounted too",
        fuse("e5 sentence, hubness discounted", *SIGNALS[1:]),
    ),
    Variant("… fused by reciprocal rank instead of z-scores", reciprocal_rank(*SIGNALS)),
)


def search_weights(
    found: dict[str, Features], gold: dict[str, np.ndarray], tune: dict[str, np.ndarray]
) -> tuple[float, ...]:
    """The weights of ``SIGNALS`` that rank best on the tune halves (see the module docstring)."""

    def merit(weights: tuple[float, ...]) -> tuple[float, float, int]:
        at1, at3 = [], []
        for name, f in found.items():
            order = np.argsort(-fuse(*SIGNALS, weights=weights)(f), axis=1, kind="stable")[:, :3]
            hits = np.take_along_axis(gold[name], order, axis=1)[tune[name]]
            at1.append(hits[:, 0].mean())
            at3.append(hits.any(axis=1).mean())
        return float(np.mean(at1)), float(np.mean(at3)), -sum(w > 0 for w in weights)

    candidates = [w for w in itertools.product(GRID, repeat=len(SIGNALS)) if any(w)]
    return max(candidates, key=merit)


def describe_weights(weights: Sequence[float]) -> str:
    return ", ".join(f"{name} {w:g}" for name, w in zip(SIGNALS, weights, strict=True))


def recall(results: Sequence[Result], half: str, at: int) -> float:
    mine = [r for r in results if r.question.half == half]
    return sum(r.rank is not None and r.rank <= at for r in mine) / len(mine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality.ablation", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    started = time.perf_counter()
    encoders = {name: open_encoder(name) for name in (E5_MODEL, USE_MODEL)}
    sets = load_sets(names=("qa_dev", "qa_dev_v2", "squad"))
    squad_json = data.load_json(EVAL_DIR / FILES["squad"])
    article_document = parse_document(ARTICLE.name, ARTICLE.read_text("utf-8"))
    squad_documents = [
        parse_document(data.squad_file_name(a["title"]), "\n\n".join(x["context"] for x in a["paragraphs"]))
        for a in squad_json["data"]
    ]
    article = list(article_document.paragraphs)
    squad = [p for d in squad_documents for p in d.paragraphs]
    titles = {d.name: d.title for d in (article_document, *squad_documents)}
    found: dict[str, Features] = {}
    gold: dict[str, np.ndarray] = {}
    tune: dict[str, np.ndarray] = {}
    answerable: dict[str, list[Question]] = {}
    for name, questions in sets.items():
        answerable[name] = [q for q in questions if q.kind == "answerable"]
        paragraphs = squad if name == "squad" else article
        found[name] = features(encoders, paragraphs, titles, [q.text for q in answerable[name]])
        gold[name] = np.array(
            [
                [q.gold is not None and q.gold.matches(p.source, p.number, p.text) for p in paragraphs]
                for q in answerable[name]
            ]
        )
        tune[name] = np.array([q.half == HALVES[0] for q in answerable[name]])
    weights = search_weights(found, gold, tune)
    searched = f"the engine's signals, weights searched on the tune halves ({describe_weights(weights)})"
    variants = (*VARIANTS, Variant(searched, fuse(*SIGNALS, weights=weights)))
    table: dict[str, dict[str, list[Result]]] = {v.name: {} for v in variants}
    for name in sets:
        paragraphs = squad if name == "squad" else article
        for variant in variants:
            table[variant.name][name] = ranked_results(
                variant.name, answerable[name], paragraphs, variant.score(found[name])
            )
    header = "| variant | " + " | ".join(f"{name} {half} r@1 / r@3" for name in sets for half in HALVES) + " |"
    lines = [
        "# Ranking ablation",
        "",
        "Command: `python -m bench.quality.ablation`. Paragraph recall of the answerable questions, every",
        "paragraph of the corpus scored, no relevance bar; z-score fusion with equal weights unless said.",
        "",
        header,
        "|---|" + "--:|" * (len(sets) * len(HALVES)),
    ]
    for variant in variants:
        cells = [
            f"{recall(table[variant.name][name], half, 1):.3f} / {recall(table[variant.name][name], half, 3):.3f}"
            for name in sets
            for half in HALVES
        ]
        lines.append(f"| {variant.name} | " + " | ".join(cells) + " |")
    lines += ["", f"Wall time: {time.perf_counter() - started:.1f} s."]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ablation.md").write_text(text + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
