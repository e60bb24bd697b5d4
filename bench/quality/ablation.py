"""``python -m bench.quality.ablation``: what each piece of the ranking adds, on both halves.

Every variant scores every paragraph of the corpus for every answerable question from the same
ingredients the engine uses (its encoders and its BM25 tokenizer), so rows differ only in how
the evidence is combined. Every row but one ranks with the engine's own fusion,
``index.search.Fusion`` (each signal a z-score against its ``FUSION_HEAD`` best paragraphs, the
z-scores added), given other signals or weights; the engine's row is ``ENGINE_FUSION`` itself.
The one other row is reciprocal rank fusion, the alternative measured against it. Weights are
equal except in the last row: there the weights of the engine's signals are searched on the
**tune** halves only (every weight in {0, ½, 1}; the best mean recall@1 over the sets, then
recall@3, then fewer signals), and the check halves show whether that choice carries over.
Writes ``bench/results/ablation.md``.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import re
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

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
from index.search import BM25, ENGINE_FUSION, PARAGRAPH, SENTENCE, TITLED, Fusion, hubness, titled

# Signal name → its score of each paragraph (columns) for each question (rows); the engine's
# signals under their names in ``index.search``.
Features = Mapping[str, np.ndarray]
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
    out: dict[str, np.ndarray] = {}
    e5, use = encoders[E5_MODEL], encoders[USE_MODEL]
    q = e5.queries(questions)
    sentence_vectors = e5.documents([s for _, s in sentences])
    paragraph_vectors = e5.documents([p.text for p in paragraphs])
    sentence_scores = q @ sentence_vectors.T
    out[SENTENCE] = best_per_paragraph(sentence_scores, owner, n)
    out["e5 paragraph"] = q @ paragraph_vectors.T
    with_titles = [titled(titles[paragraphs[i].source], s) for i, s in sentences]
    out[TITLED] = best_per_paragraph(q @ e5.documents(with_titles).T, owner, n)
    out["e5 window"] = best_per_paragraph(
        q @ e5.documents([w for _, w in windows]).T, np.array([i for i, _ in windows]), n
    )
    # CSLS as the engine does it (index.search.hubness): against the background read as questions.
    hub_questions = e5.queries(background_texts())
    out[PARAGRAPH] = out["e5 paragraph"] - hubness(paragraph_vectors, hub_questions) / 2
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
    out[BM25] = best_per_paragraph(own, owner, n)
    out["bm25 char 4-grams"] = bm25_matrix([char_grams(p.text) for p in paragraphs], [char_grams(q) for q in questions])
    return out


def fuse(*names: str) -> Callable[[Features], np.ndarray]:
    """The engine's fusion of ``names``, with equal weights."""
    return Fusion.equal(*names, head=ENGINE_FUSION.head).fuse


def engine_and(name: str) -> Callable[[Features], np.ndarray]:
    """The engine's fusion with ``name`` added at weight 1."""
    return replace(ENGINE_FUSION, weights=(*ENGINE_FUSION.weights, (name, 1.0))).fuse


def weighted(weights: Sequence[float]) -> Fusion:
    """The engine's fusion with these weights of its ``SIGNALS``."""
    return replace(ENGINE_FUSION, weights=tuple(zip(SIGNALS, weights, strict=True)))


def reciprocal_rank(*names: str, k: int = 60) -> Callable[[Features], np.ndarray]:
    """Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009), the alternative to the engine's."""

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


# The engine's signals (``index.search.ENGINE_FUSION``), and how the table names them.
SIGNALS = ENGINE_FUSION.signals
LABELS = {
    SENTENCE: "e5 sentence",
    TITLED: "e5 titled sentence",
    PARAGRAPH: "e5 paragraph, hubness discounted",
    BM25: "bm25 sentence, own language",
}
GRID = (0.0, 0.5, 1.0)
VARIANTS = (
    Variant("previous engine: USE best sentence + BM25", fuse("use sentence", "bm25 sentence")),
    Variant("E5 best sentence", fuse(SENTENCE)),
    Variant("E5 whole paragraph", fuse("e5 paragraph")),
    Variant("E5 sentence + paragraph", fuse(SENTENCE, "e5 paragraph")),
    Variant("E5 sentence + paragraph + BM25", fuse(SENTENCE, "e5 paragraph", "bm25 sentence")),
    Variant("… + E5 sentence after its document's title", fuse(SENTENCE, TITLED, "e5 paragraph", "bm25 sentence")),
    Variant("… with the paragraph's hubness discounted (CSLS)", fuse(SENTENCE, TITLED, PARAGRAPH, "bm25 sentence")),
    Variant("**… and BM25 stemming each document in its language (the engine)**", ENGINE_FUSION.fuse),
    Variant("… + E5 two-sentence window", engine_and("e5 window")),
    Variant("… + BM25 on character 4-grams", engine_and("bm25 char 4-grams")),
    Variant("… + USE best sentence", engine_and("use sentence")),
    Variant(
        "… with the best sentence's hubness discounted too",
        fuse("e5 sentence, hubness discounted", TITLED, PARAGRAPH, BM25),
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
            order = np.argsort(-weighted(weights).fuse(f), axis=1, kind="stable")[:, :3]
            hits = np.take_along_axis(gold[name], order, axis=1)[tune[name]]
            at1.append(hits[:, 0].mean())
            at3.append(hits.any(axis=1).mean())
        return float(np.mean(at1)), float(np.mean(at3)), -sum(w > 0 for w in weights)

    candidates = [w for w in itertools.product(GRID, repeat=len(SIGNALS)) if any(w)]
    return max(candidates, key=merit)


def describe_weights(weights: Sequence[float]) -> str:
    return ", ".join(f"{LABELS[name]} {w:g}" for name, w in zip(SIGNALS, weights, strict=True))


def recall(results: Sequence[Result], half: str, at: int) -> float:
    mine = [r for r in results if r.question.half == half]
    return sum(r.rank is not None and r.rank <= at for r in mine) / len(mine)


def corpora() -> tuple[list[Paragraph], list[Paragraph], dict[str, str]]:
    """The article's paragraphs, the SQuAD articles' paragraphs, and each document's title."""
    squad_json = data.load_json(EVAL_DIR / FILES["squad"])
    article_document = parse_document(ARTICLE.name, ARTICLE.read_text("utf-8"))
    squad_documents = [
        parse_document(data.squad_file_name(a["title"]), "\n\n".join(x["context"] for x in a["paragraphs"]))
        for a in squad_json["data"]
    ]
    titles = {d.name: d.title for d in (article_document, *squad_documents)}
    return list(article_document.paragraphs), [p for d in squad_documents for p in d.paragraphs], titles


def table(
    encoders: dict[str, Encoder],
    sets: dict[str, list[Question]],
    paragraphs_of: Mapping[str, Sequence[Paragraph]],
    titles: dict[str, str],
) -> list[str]:
    """The ablation table (Markdown lines) of the answerable questions of ``sets``, each set's over
    its ``paragraphs_of`` (``titles``: each source's document title)."""
    found: dict[str, Features] = {}
    gold: dict[str, np.ndarray] = {}
    tune: dict[str, np.ndarray] = {}
    answerable: dict[str, list[Question]] = {}
    for name, questions in sets.items():
        answerable[name] = [q for q in questions if q.kind == "answerable"]
        paragraphs = paragraphs_of[name]
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
    variants = (*VARIANTS, Variant(searched, weighted(weights).fuse))
    ranked: dict[str, dict[str, list[Result]]] = {v.name: {} for v in variants}
    for name in sets:
        for variant in variants:
            ranked[variant.name][name] = ranked_results(
                variant.name, answerable[name], paragraphs_of[name], variant.score(found[name])
            )
    lines = [
        "| variant | " + " | ".join(f"{name} {half} r@1 / r@3" for name in sets for half in HALVES) + " |",
        "|---|" + "--:|" * (len(sets) * len(HALVES)),
    ]
    for variant in variants:
        cells = [
            f"{recall(ranked[variant.name][name], half, 1):.3f} / {recall(ranked[variant.name][name], half, 3):.3f}"
            for name in sets
            for half in HALVES
        ]
        lines.append(f"| {variant.name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.quality.ablation", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    started = time.perf_counter()
    encoders = {name: open_encoder(name) for name in (E5_MODEL, USE_MODEL)}
    sets = load_sets(names=("qa_dev", "qa_dev_v2", "squad"))
    article, squad, titles = corpora()
    paragraphs_of = {name: squad if name == "squad" else article for name in sets}
    lines = [
        "# Ranking ablation",
        "",
        "Command: `python -m bench.quality.ablation`. Paragraph recall of the answerable questions, every",
        "paragraph of the corpus scored, no relevance bar; the engine's fusion (each signal a z-score against",
        f"its {ENGINE_FUSION.head} best paragraphs), equal weights unless said.",
        "",
        *table(encoders, sets, paragraphs_of, titles),
    ]
    lines += ["", f"Wall time: {time.perf_counter() - started:.1f} s."]
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ablation.md").write_text(text + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
