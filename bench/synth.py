"""Synthetic Dutch text for the scale benchmarks, made from the article's own sentences.

A paragraph is 2 to 5 sentences drawn at random from the article and from the Dutch lines
of ``index/resources/background.txt``, in which every number is replaced by a random one
and every country or city by another from a fixed list, so paragraphs are distinct while
keeping the article's vocabulary, sentence length and paragraph length. Documents hold 100
paragraphs each, like a long article.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from bench.common import ARTICLE
from index.background import background_texts
from index.documents import load_corpus, split_sentences

PLACES = (
    "Armenië",
    "Azerbeidzjan",
    "Rusland",
    "Georgië",
    "Turkije",
    "Iran",
    "Oekraïne",
    "Frankrijk",
    "Duitsland",
    "Nederland",
    "België",
    "Polen",
    "Moskou",
    "Jerevan",
    "Bakoe",
    "Brussel",
    "Den Haag",
)
_PLACE = re.compile("|".join(sorted(PLACES, key=len, reverse=True)))
_NUMBER = re.compile(r"\d+")
_DUTCH_HINTS = (" de ", " het ", " een ", " van ", " en ")
PARAGRAPHS_PER_DOCUMENT = 100


def sentence_pool() -> list[str]:
    """The article's sentences plus the Dutch background sentences."""
    corpus = load_corpus(ARTICLE.parent)
    article = [s for p in corpus.paragraphs if p.source == ARTICLE.name for s in p.sentences]
    dutch = [s for s in background_texts() if any(h in f" {s.lower()} " for h in _DUTCH_HINTS)]
    return article + dutch


def paragraphs(count: int, seed: int = 0) -> list[str]:
    """``count`` distinct synthetic paragraphs."""
    rng = random.Random(seed)
    pool = sentence_pool()

    def vary(sentence: str) -> str:
        sentence = _NUMBER.sub(lambda m: str(rng.randint(1, 10 ** len(m.group(0)) - 1)), sentence)
        return _PLACE.sub(lambda m: rng.choice(PLACES), sentence)

    return [" ".join(vary(rng.choice(pool)) for _ in range(rng.randint(2, 5))) for _ in range(count)]


def sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` sentences of synthetic paragraphs, split as the engine splits them."""
    out: list[str] = []
    for paragraph in paragraphs(max(1, count // 2), seed):
        out.extend(split_sentences(paragraph))
        if len(out) >= count:
            break
    return out[:count]


def write_corpus(folder: Path, count: int, seed: int = 0) -> None:
    """A corpus folder of ``count`` synthetic paragraphs in documents of 100 paragraphs."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = paragraphs(count, seed)
    for number, start in enumerate(range(0, count, PARAGRAPHS_PER_DOCUMENT)):
        body = "\n\n".join(texts[start : start + PARAGRAPHS_PER_DOCUMENT])
        (folder / f"synthetic-{number:05d}.txt").write_text("date 2023-10\n" + body + "\n", "utf-8")


def word_windows(count: int, seed: int = 0) -> list[str]:
    """``count`` runs of 6 to 20 consecutive words of the article and the background text.

    Recombined whole sentences give only a few dozen distinct meanings; word windows give a
    spread of sentence vectors for the vector-search benchmark.
    """
    rng = random.Random(seed)
    words = ARTICLE.read_text("utf-8").split()[2:] + [w for s in background_texts() for w in s.split()]
    out = []
    for _ in range(count):
        length = rng.randint(6, 20)
        start = rng.randrange(len(words) - length)
        out.append(" ".join(words[start : start + length]))
    return out


def write_pooled_corpus(folder: Path, count: int, pool: int, seed: int = 0) -> None:
    """A corpus folder of ``count`` paragraphs drawn from ``pool`` distinct ones, in documents of 100
    that share one title: a large corpus with few distinct texts, so that a memoizing encoder
    embeds it in the time of ``pool`` paragraphs (the base of ``bench.incremental``)."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = paragraphs(pool, seed)
    rng = random.Random(seed)
    for number, start in enumerate(range(0, count, PARAGRAPHS_PER_DOCUMENT)):
        body = "\n\n".join(rng.choice(texts) for _ in range(min(PARAGRAPHS_PER_DOCUMENT, count - start)))
        header = "date 2023-10\ntitle: Synthetisch archief\n"
        (folder / f"archive-{number:05d}.txt").write_text(header + body + "\n", "utf-8")
