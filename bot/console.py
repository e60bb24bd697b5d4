"""Plain-text answers for the terminal: ``ask`` without ``--json`` and the ``chat`` console.

They are worded in the terminal's language (``console_language``), as the bot words its replies in
the user's Telegram language.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

from bot.core.texts import Language, not_searched
from bot.core.texts import text as bot_text
from index import Answer, Engine, QuestionError

BOLD, RESET = "\033[1m", "\033[0m"


def console_language(environ: Mapping[str, str] = os.environ) -> Language:
    """Dutch when the locale that sets messages (``LC_ALL``, else ``LC_MESSAGES``, else ``LANG``,
    as POSIX orders them) is a Dutch one (``nl_NL.UTF-8``, ``nl_BE``), English otherwise."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return "nl" if environ[name].lower().split("_")[0].split(".")[0] == "nl" else "en"
    return "en"


def covers(engine: Engine) -> str:
    """The indexed documents as one line: titles and dates."""
    return "; ".join(f"{d.title} ({d.date})" if d.date else d.title for d in engine.sources())


def render(
    answer: Answer,
    *,
    topics: str = "",
    color: bool = False,
    lang: Language = "en",
) -> str:
    """An answer as text in ``lang``: each passage with its source (its document's title and date,
    the paragraph, and the article's link when it has one), the answering sentence marked.

    A hedged answer starts with the same line the bot sends on Telegram.
    """
    if not answer.answered:
        refused = bot_text(lang, "console_refused")
        return f"{refused} {bot_text(lang, 'console_covers', topics=topics)}" if topics else refused
    blocks = [bot_text(lang, "hedged")] if answer.hedged else []
    paragraph = bot_text(lang, "paragraph")
    for passage in answer.passages:
        marked = f"{BOLD}{passage.sentence}{RESET}" if color else f"**{passage.sentence}**"
        text = passage.text.replace(passage.sentence, marked, 1)
        title = passage.title or passage.source
        date = f" ({passage.date})" if passage.date else ""
        link = f"\n{passage.url}" if passage.url else ""
        blocks.append(f"[{title}{date}, {paragraph} {passage.paragraph}]\n{text}{link}")
    return "\n\n".join(blocks)


def chat(engine: Engine, *, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, lang: Language = "en") -> None:
    """Ask questions at a prompt until end of input, ``quit`` or Ctrl-C; answers in ``lang``.

    Each answer names the documents of the index that answered it, so a reindex during the chat
    shows at once."""
    color = stdout.isatty()
    stdout.write(bot_text(lang, "console_intro", topics=covers(engine)) + "\n")
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
            answer = engine.ask(line)
            shown = render(answer, topics=covers(engine), color=color, lang=lang)
            stdout.write(shown + "\n")
        except QuestionError as exc:
            stdout.write(not_searched(lang, exc) + "\n")
    stdout.write("\n")
