"""A deterministic stand-in for the model, for tests about mechanics rather than answers.

Each word (lower-cased, letters and digits) adds a fixed ±1 to two of ``DIMENSION`` places
picked by its hash, and the sum is scaled to unit length: the same text always gives the same
vector, texts that share words are near, and nothing is loaded. Store, manifest, pointer,
damaged-file, handler and server tests build their indexes with it in milliseconds; tests
about which passage answers a question keep the real model.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from index.encoders import BATCH, Check

NAME = "hashing-test"
DIMENSION = 64
_WORD = re.compile(r"\w+")


class HashingEncoder:
    """The ``index.encoders.Encoder`` interface over hashed words; safe from any thread."""

    name = NAME
    dimension = DIMENSION

    def queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions: the same vectors as passages."""
        return self._embed(texts)

    def documents(
        self, texts: list[str], *, batch_size: int = BATCH, progress: bool = False, check: Check | None = None
    ) -> np.ndarray:
        """Embed passages ``batch_size`` at a time, ``check`` before each batch, as a model would."""
        parts = []
        for start in range(0, len(texts), batch_size):
            if check is not None:
                check()
            parts.append(self._embed(texts[start : start + batch_size]))
        return np.concatenate(parts) if parts else np.zeros((0, DIMENSION), dtype=np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                for place, sign in ((digest[0], digest[1]), (digest[2], digest[3])):
                    out[row, place % DIMENSION] += 1.0 if sign & 1 else -1.0
            if not out[row].any():  # no word at all: one fixed direction, still unit length
                out[row, 0] = 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)
