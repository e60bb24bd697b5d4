"""Plain-text answers for the terminal: ``ask`` without ``--json`` and the ``chat`` console.

They are worded in the terminal's language (``console_language``), as the bot words its replies in
the user's Telegram language.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from bot.core.texts import Language, not_searched
from bot.core.texts import text as bot_text
from index import Answer, Engine, QuestionError
from index.followups import Turn, ask_in_context, understand

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


def sources(engine: Engine, lang: Language = "en") -> str:
    """The console's /sources: each indexed document on a line, with its title, date and size."""
    lines = [
        "- "
        + bot_text(
            lang, "sources_line", document=f"{d.title} ({d.date})" if d.date else d.title, paragraphs=len(d.paragraphs)
        )
        for d in engine.sources()
    ]
    return "\n".join([bot_text(lang, "sources_title"), *(lines or [bot_text(lang, "no_documents")])])


def command(engine: Engine, line: str, lang: Language = "en") -> str | None:
    """The console's reply to a command (/help, /sources, any other /word); None for a question."""
    word = line.split()[0].lower() if line.strip().startswith("/") else None
    if word is None or not word[1:].isalpha():  # "/ 5" or "/etc/passwd?" is asked as a question
        return None
    if word in ("/help", "/start"):
        return bot_text(lang, "console_help")
    if word == "/sources":
        return sources(engine, lang)
    return bot_text(lang, "console_unknown", command=word)


def _line_reader(stdin: TextIO, stdout: TextIO) -> Callable[[], str]:
    """Read one typed line after the prompt, "" at end of input. At a terminal (the real stdin and
    stdout) through ``input`` with the ``readline`` module loaded: the line can be edited and the
    arrow keys recall earlier questions."""
    if stdin is sys.stdin and stdout is sys.stdout and stdin.isatty():
        with contextlib.suppress(ImportError):  # a Python built without it: plain input()
            import readline  # noqa: F401  (loading it gives input() line editing and history)

        def typed() -> str:
            stdout.write("\n")
            try:
                return input("? ") + "\n"
            except EOFError:
                return ""

        return typed

    def read() -> str:
        stdout.write("\n? ")
        stdout.flush()
        return stdin.readline()

    return read


def answer_turn(
    engine: Engine, question: str, previous: Turn | None, k: int | None = None
) -> tuple[Answer, Turn, str | None]:
    """``question`` answered in the context of ``previous`` (``index.followups``), the turn it
    leaves, and what it was taken to mean when it leaned on ``previous`` (else None)."""
    answer, turn = ask_in_context(engine, question, previous, k)
    understood = understand(question, previous)
    return answer, turn, understood.shown_as if turn.followups and understood.uses_context else None


def chat(
    engine: Engine,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    lang: Language = "en",
    followup_minutes: float = 10,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Ask questions at a prompt until end of input, ``quit`` or Ctrl-C; answers in ``lang``;
    /help and /sources answered by the console itself (``command``).

    A follow-up ("and why?") within ``followup_minutes`` of the previous question is answered in
    its context, and the answer starts with what it was taken to mean. Each answer names the
    documents of the index that answered it, so a reindex during the chat shows at once."""
    color = stdout.isatty()
    stdout.write(bot_text(lang, "console_intro", topics=covers(engine)) + "\n")
    previous: Turn | None = None
    read = _line_reader(stdin, stdout)
    while True:
        try:
            line = read()
        except KeyboardInterrupt:
            break
        if not line or line.strip().lower() in ("quit", "exit", "stop"):
            break
        if not line.strip():
            continue
        reply = command(engine, line, lang)
        if reply is not None:
            stdout.write(reply + "\n")
            continue
        if previous is not None and clock() - previous.at > followup_minutes * 60:
            previous = None  # a long pause: the next question starts afresh
        try:
            answer, turn, meant = answer_turn(engine, line, previous)
        except QuestionError as exc:
            stdout.write(not_searched(lang, exc) + "\n")
            continue
        if meant is not None:
            stdout.write(bot_text(lang, "context_line", question=meant) + "\n\n")
        stdout.write(render(answer, topics=covers(engine), color=color, lang=lang) + "\n")
        previous = Turn(turn.question, turn.meaning, turn.passages, turn.followups, clock())
    stdout.write("\n")
