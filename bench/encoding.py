"""Encoder wrappers for the build benchmarks: one that records what a build encodes, so the same
texts can be encoded again alone (the encode floor), and one that remembers vectors by text, to
set up a large base index quickly from a corpus of repeated paragraphs (never timed)."""

from __future__ import annotations

import time

import numpy as np

from index.encoders import BATCH, Check, Encoder

Call = tuple[bool, list[str]]  # (as questions, texts): one call a build made


class Recording:
    """An encoder that passes every call on to ``inner`` and keeps a list of them."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self.calls: list[Call] = []

    def queries(self, texts: list[str]) -> np.ndarray:
        self.calls.append((True, list(texts)))
        return self.inner.queries(texts)

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        self.calls.append((False, list(texts)))
        return self.inner.documents(texts, batch_size=batch_size, check=check)

    @property
    def texts(self) -> int:
        return sum(len(texts) for _, texts in self.calls)


class Memoized:
    """An encoder that embeds each distinct text once with ``inner`` and remembers its vector.

    The vectors are the model's own (it embeds each text independently of its batch), so an
    index built through it is the index the model builds, in the time of its distinct texts.
    """

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        self._known: dict[tuple[bool, str], np.ndarray] = {}

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, question=True)

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        return self._embed(texts, question=False)

    def _embed(self, texts: list[str], *, question: bool) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if (question, t) not in self._known))
        if new:
            vectors = self.inner.queries(new) if question else self.inner.documents(new)
            self._known.update(((question, t), v) for t, v in zip(new, vectors, strict=True))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._known[(question, text)]
        return out


def replay(encoder: Encoder, calls: list[Call]) -> float:
    """Seconds ``encoder`` takes for exactly ``calls``, made the same way: the floor of the build that made them."""
    started = time.perf_counter()
    for question, texts in calls:
        if question:
            encoder.queries(texts)
        else:
            encoder.documents(texts)
    return time.perf_counter() - started


class Blank:
    """An encoder of zero vectors in no time: a dry run of a build, recorded, says what it will encode."""

    def __init__(self, name: str, dimension: int) -> None:
        self.name = name
        self.dimension = dimension

    def queries(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), self.dimension), dtype=np.float32)

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        return self.queries(texts)
