"""Plain-text answers for the terminal: ``ask`` without ``--json`` and the ``chat`` console."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from bot.core.texts import text as bot_text
from index import Answer, Engine, QuestionError

BOLD, RESET = "\033[1m", "\033[0m"


def titles_of(engine: Engine) -> dict[str, str]:
    """File name → title of every indexed document."""
    return {document.name: document.title for document in engine.sources()}


def covers(engine: Engine) -> str:
    """The indexed documents as one line: titles and dates."""
    return "; ".join(f"{d.title} ({d.date})" if d.date else d.title for d in engine.sources())


def render(answer: Answer, *, topics: str = "", color: bool = False, titles: Mapping[str, str] | None = None) -> str:
    """An answer as text: each passage with its source (its document's title in ``titles``, by file
    name, else the file name), the answering sentence marked.

    A hedged answer starts with the same line the bot sends on Telegram (in English).
    """
    if not answer.answered:
        hint = f" It covers: {topics}." if topics else ""
        return "The article does not say." + hint
    blocks = [bot_text("en", "hedged")] if answer.hedged else []
    titles = titles or {}
    for passage in answer.passages:
        marked = f"{BOLD}{passage.sentence}{RESET}" if color else f"**{passage.sentence}**"
        text = passage.text.replace(passage.sentence, marked, 1)
        blocks.append(f"[{titles.get(passage.source, passage.source)}, paragraph {passage.paragraph}]\n{text}")
    return "\n\n".join(blocks)


def chat(engine: Engine, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    """Ask questions at a prompt until end of input, ``quit`` or Ctrl-C."""
    color = stdout.isatty()
    topics = covers(engine)
    stdout.write(f"Ask a question about: {topics}.\nType quit or press Ctrl-D to stop.\n")
    while True:
        stdout.write("\n? ")
        stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            break
        if not line or line.strip().lower() in ("quit", "exit", "stop"):
            break
        if not line.strip():
            continue
        try:
            stdout.write(render(engine.ask(line), topics=topics, color=color, titles=titles_of(engine)) + "\n")
        except QuestionError as exc:
            stdout.write(f"Sorry: {exc}.\n")
    stdout.write("\n")
