"""Deep links: ``https://t.me/<bot>?start=<payload>`` opens the bot and asks a question at once.

A payload is either the name of a prepared question (``PREPARED_QUESTIONS``, a TOML file of
``name = "question"`` lines), or the question itself as URL-safe base64 without padding. Telegram
carries at most 64 characters of ``A-Za-z0-9_-``, so an encoded question holds 48 bytes of UTF-8:
longer questions need a prepared name. Plain functions: no Telegram here.
"""

from __future__ import annotations

import base64
import binascii
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from index import normalize_question

PAYLOAD_LIMIT = 64  # what Telegram passes on from a t.me link's start parameter
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]+")


def encode(question: str) -> str:
    """``question`` as a start parameter: URL-safe base64 of its UTF-8, without padding."""
    return base64.urlsafe_b64encode(normalize_question(question).encode("utf-8")).decode("ascii").rstrip("=")


def decode(payload: str) -> str | None:
    """The question ``payload`` encodes, or None when it encodes none.

    Only what ``encode`` makes is accepted (same bytes back, printable UTF-8 text with a letter in
    it), so a mistyped prepared name is not read as a question made of stray bytes.
    """
    if len(payload) % 4 == 1:
        return None
    try:
        raw = base64.b64decode(payload + "=" * (-len(payload) % 4), altchars=b"-_", validate=True)
        question = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not question.isprintable() or not any(c.isalpha() for c in question) or encode(question) != payload:
        return None
    return question


def link(username: str, payload: str) -> str:
    """The t.me link that opens ``username``'s chat and sends ``/start payload``."""
    return f"https://t.me/{username}?start={payload}"


@dataclass(frozen=True)
class Opened:
    """What a ``/start`` payload asks: ``question``, or why it asks nothing (a text key and its values)."""

    question: str | None = None
    problem: str | None = None
    values: dict[str, object] = field(default_factory=dict)


def resolve(payload: str, prepared: Mapping[str, str]) -> Opened:
    """The question behind a ``/start`` payload: a prepared name first, then an encoded question."""
    if len(payload) > PAYLOAD_LIMIT:
        return Opened(problem="link_too_long", values={"length": len(payload), "limit": PAYLOAD_LIMIT})
    if not _PAYLOAD.fullmatch(payload):
        return Opened(problem="link_bad_characters")
    if payload in prepared:
        return Opened(question=prepared[payload])
    question = decode(payload)
    if question is None:
        return Opened(problem="link_unknown", values={"payload": payload})
    return Opened(question=question)


def load_prepared(path: Path, max_chars: int) -> dict[str, str]:
    """The prepared questions of a TOML file: ``name = "question"`` per line, names of at most 64 of
    ``A-Za-z0-9_-``. ValueError, in one line naming the file and the entry, for anything else."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path} is not valid TOML: {exc}") from None
    questions: dict[str, str] = {}
    for name, value in data.items():
        if not _PAYLOAD.fullmatch(name) or len(name) > PAYLOAD_LIMIT:
            raise ValueError(
                f"{path}: the name {name!r} must be 1-{PAYLOAD_LIMIT} characters of A-Z, a-z, 0-9, _ and -"
            )
        if not isinstance(value, str) or not normalize_question(value):
            raise ValueError(f"{path}: {name} must be a question in quotes")
        if len(normalize_question(value)) > max_chars:
            raise ValueError(f"{path}: the question {name} is longer than MAX_QUESTION_CHARS ({max_chars})")
        questions[name] = normalize_question(value)
    return questions


def payload_for(question: str, prepared: Mapping[str, str]) -> str:
    """The start parameter asking ``question``: its prepared name when it has one, else its encoding.

    ValueError, in one line, for an empty question or one whose encoding does not fit a link.
    """
    question = normalize_question(question)
    if not question:
        raise ValueError("the question is empty")
    named = next((name for name, text in prepared.items() if text == question), None)
    if named is not None:
        return named
    payload = encode(question)
    if len(payload) > PAYLOAD_LIMIT:
        raise ValueError(
            f"the question takes {len(payload)} characters in a link, more than Telegram's {PAYLOAD_LIMIT} "
            f"(about {PAYLOAD_LIMIT * 3 // 4} bytes of text); shorten it, or give it a name in PREPARED_QUESTIONS"
        )
    return payload
