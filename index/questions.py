"""Whether a question can be searched for, and the question as the engine reads it.

The one check every edge (Telegram handlers, inline mode, the console, the CLI) relies on: its
error carries a machine-readable ``reason`` and the numbers, and the edge words it for its reader.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from index.errors import EngineError

QuestionProblem = Literal["empty", "too_long", "undecodable"]


class QuestionError(EngineError, ValueError):
    """A question the engine will not search for.

    ``reason`` is "empty" (no letter or digit), "too_long" or "undecodable" (bytes that were
    not text in the input's encoding, read as lone surrogates); ``length`` is the normalised
    question's length and ``limit`` the most allowed, both in characters. The message says why
    in English, for logs and the command line.
    """

    def __init__(self, reason: QuestionProblem, length: int, limit: int, message: str) -> None:
        super().__init__(message)
        self.reason: QuestionProblem = reason
        self.length = length
        self.limit = limit


def normalize_question(question: str) -> str:
    """The question as the engine reads it: whitespace runs as one space, none around it."""
    return " ".join(question.split())


def check_question(question: str, limit: int) -> str:
    """``question`` with its whitespace normalised; QuestionError "empty" when no letter or digit
    is left once format and control characters are removed, "too_long" past ``limit`` characters,
    "undecodable" when it holds a lone surrogate: Python's stand-in for a byte that was not text
    (``surrogateescape`` on stdin and argv), which no encoder can encode and no reader can read.

    "🙂", "..." or a lone right-to-left mark would otherwise be embedded like any question and
    answered with whatever paragraph lies closest to nothing.
    """
    question = normalize_question(question)
    bad = next((i for i, ch in enumerate(question) if unicodedata.category(ch) == "Cs"), None)
    if bad is not None:
        where = f"an undecodable byte at character {bad + 1}"
        raise QuestionError("undecodable", len(question), limit, f"the question is not valid UTF-8 text ({where})")
    if not question:
        raise QuestionError("empty", 0, limit, "the question is empty")
    visible = (ch for ch in question if unicodedata.category(ch) not in ("Cf", "Cc"))
    if not any(ch.isalnum() for ch in visible):
        raise QuestionError("empty", len(question), limit, "the question is empty: it has no letter or digit")
    if len(question) > limit:
        raise QuestionError(
            "too_long",
            len(question),
            limit,
            f"the question is too long ({len(question)} characters; the limit is {limit})",
        )
    return question
