"""Command line: ``python -m bot [ask|add|reindex|chat|serve]``; with no command, serve or chat."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import signal
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from bot.core.redact import hide_updates, install, secrets_of
from bot.core.settings import Settings, SettingsError, load_settings, unknown_dotenv_keys
from bot.core.texts import Language
from index import Answer, Engine, EngineError, QuestionError

logger = logging.getLogger(__name__)


def configure_logging(settings: Settings) -> None:
    """Log to stderr with the token, webhook secret and Redis password redacted on the handler, whatever
    the logger or level, and readers' updates kept out of python-telegram-bot's lines; httpx stays at
    WARNING because its request lines carry the bot token."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    token, secret, redis = settings.telegram_bot_token, settings.webhook_secret, settings.redis_url
    install(
        secrets_of(
            token.get_secret_value() if token else None,
            secret.get_secret_value() if secret else None,
            redis.get_secret_value() if redis else None,
        )
    )
    hide_updates()
    for noisy in ("httpx", "httpcore", "faiss.loader", "bm25s", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Parser(argparse.ArgumentParser):
    """A subcommand's parser; with ``one_line=True`` a bad argument is one line and exit ``status``."""

    def __init__(self, *args: Any, one_line: bool = False, status: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.one_line = one_line
        self.status = status

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extra = super().parse_known_args(args, namespace)
        if extra and self.one_line:  # otherwise the main parser would report them, with its usage
            self.error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed, extra

    def error(self, message: str) -> NoReturn:
        if not self.one_line:
            super().error(message)
        self.exit(self.status, f"error: {self.prog}: {message}\n")


def _at_least_one(unit: str) -> Callable[[str], int]:
    """An argument type: a whole number of ``unit``, at least 1 (0 or less would ask for nothing)."""

    def whole(value: str) -> int:
        if not value.strip().isdigit() or int(value) < 1:
            raise argparse.ArgumentTypeError(f"must be a whole number of {unit}, at least 1: {value!r}")
        return int(value)

    return whole


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Answer questions about news articles.")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    ask = commands.add_parser("ask", help="answer questions and exit", one_line=True, status=2)
    ask.add_argument("question", help="the question, or - to read one question per line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.add_argument("-k", type=_at_least_one("passages"), default=None, help="number of passages (default: TOP_K)")
    ask.add_argument(
        "--dialog", action="store_true", help="the questions are one chat: a follow-up is answered in its context"
    )
    commands.add_parser("reindex", help="rebuild the index from the corpus folder")
    add = commands.add_parser("add", help="add a news article to the corpus, then rebuild the index", one_line=True)
    add.add_argument("source", help="the article's http(s) URL, or a .html page, .txt or .md document")
    commands.add_parser("chat", help="talk to the bot in this terminal")
    commands.add_parser("serve", help="run the Telegram bot (webhook when WEBHOOK_URL is set, else polling)")
    link = commands.add_parser("link", help="print the t.me link that opens the bot and asks QUESTION")
    link.add_argument("question", help="the question; a prepared one (PREPARED_QUESTIONS) is linked by its name")
    stats = commands.add_parser("stats", help="what readers asked and voted (FEEDBACK_DB)", one_line=True)
    stats.add_argument("--days", type=_at_least_one("days"), default=7, help="the last N days (default: 7)")
    stats.add_argument("--csv", metavar="FILE", help="write the report as CSV to FILE (- for stdout)")
    stats.add_argument("--export-eval", metavar="FILE", help="write questions readers liked as a question set")
    return parser


def _tolerant_stdin() -> None:
    """Read stdin so that bytes which are not text in its encoding become lone surrogates instead of
    raising mid-loop: the engine refuses such a question ("undecodable") and the next is still read."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")


def printable(text: str) -> str:
    """``text`` with each lone surrogate (an undecodable byte) as U+FFFD, so that it can be printed."""
    return "".join("\ufffd" if unicodedata.category(ch) == "Cs" else ch for ch in text)


def _questions(argument: str) -> Iterator[tuple[str, str]]:
    """Each question with where it came from for an error line: "" for the argument, "line N: " for stdin."""
    if argument != "-":
        yield "", argument
        return
    for number, line in enumerate(sys.stdin, 1):
        if line.strip():
            yield f"line {number}: ", line.rstrip("\n")


def ask(
    engine: Engine, argument: str, *, as_json: bool, k: int | None, lang: Language = "en", dialog: bool = False
) -> int:
    """Answer each question (plain text in ``lang``); a bad one is reported and the rest still answered.

    ``dialog``: the questions are one chat, each follow-up answered in the context of the one
    before (``index.followups``); otherwise each is answered alone."""
    from bot.console import answer_turn, covers, render
    from bot.core.texts import text

    failures = 0
    previous = None
    for where, question in _questions(argument):
        meant = None
        try:
            if dialog:
                answer, previous, meant = answer_turn(engine, question, previous, k)
            else:
                answer = engine.ask(question, k)
        except QuestionError as exc:
            failures += 1
            if as_json:
                # The same keys as an answer; the question as it can be printed.
                refused = Answer(question=printable(question), passages=(), outcome="refused").to_json()
                print(json.dumps({**refused, "error": str(exc)}, ensure_ascii=False), flush=True)
            else:
                print(f"error: {where}{exc}", file=sys.stderr)
            continue
        if as_json:
            found = answer.to_json() if meant is None else {**answer.to_json(), "taken_as": meant}
            print(json.dumps(found, ensure_ascii=False), flush=True)
        else:
            shown = render(answer, topics=covers(engine), color=sys.stdout.isatty(), lang=lang)
            if meant is not None:
                shown = f"{text(lang, 'context_line', question=meant)}\n\n{shown}"
            if argument == "-":  # several answers in a row: each under its question
                shown = f"? {printable(question)}\n{shown}\n"
            print(shown, flush=True)
    return 1 if failures and argument != "-" else 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def reindex(settings: Settings) -> int:
    engine = Engine.with_model(settings.engine_config())
    report = engine.reindex(progress=sys.stderr.isatty())
    for name, why in report.skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    print(
        f"indexed {_count(report.documents, 'document')}, {_count(report.paragraphs, 'paragraph')}, "
        f"{_count(report.sentences, 'sentence')} in {report.seconds:.1f}s (version {report.version}); "
        f"documents embedded {report.embedded}, reused {report.reused}"
    )
    return 0


def add_article(settings: Settings, source: str, lang: Language = "en") -> int:
    """Add the article at ``source`` (a URL is fetched, a file read) and rebuild; 1 when it is refused."""
    from bot.core.articles import add_file, add_page
    from bot.core.corpus import Refused
    from bot.core.fetch import Fetcher
    from bot.core.texts import text

    try:
        if "://" in source:
            page = asyncio.run(Fetcher.from_settings(settings).page(source))
            stored = add_page(settings.corpus_dir, page.content, page.url)
        else:
            path = Path(source)
            stored = add_file(settings.corpus_dir, path.name, path.read_bytes(), settings.max_upload_bytes)
    except Refused as exc:
        print(f"error: cannot add {source}: {text(lang, exc.reason, **exc.values)}", file=sys.stderr)
        return 1
    done = "updated" if stored.replaced else "added"
    print(f"{done} {stored.title} ({stored.date or 'no date'}) as {stored.name}", flush=True)
    return reindex(settings)


def print_link(settings: Settings, question: str) -> int:
    """Print the deep link asking ``question``: 1 when no link can hold it, 2 without BOT_USERNAME."""
    from bot.core.deeplinks import link, payload_for

    if settings.bot_username is None:
        print(
            "error: BOT_USERNAME is not set; set it to the bot's username from @BotFather (without @)", file=sys.stderr
        )
        return 2
    try:
        payload = payload_for(question, settings.prepared_questions)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(link(settings.bot_username, payload))
    return 0


def _exit_on_sigterm() -> None:
    """SIGTERM ends a command the way Ctrl-C does, through the clean-ups on the way out (a
    half-written index folder is removed), instead of killing the process where it stands."""

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


def serve(settings: Settings) -> int:
    if settings.telegram_bot_token is None:
        print(
            "error: TELEGRAM_BOT_TOKEN is not set. Copy .env.example to .env and add the token from "
            "@BotFather, or talk to the bot here with `python -m bot chat`.",
            file=sys.stderr,
        )
        return 2
    if settings.webhook_url:
        from bot.web.server import run

        return run(settings)
    from bot.chat.telegram import run_polling

    return run_polling(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)  # before anything logs
    for unknown in unknown_dotenv_keys():
        logger.warning("%s", unknown)
    command = args.command or ("serve" if settings.telegram_bot_token else "chat")
    if command != "serve":  # the server stops gracefully on SIGTERM by itself
        _exit_on_sigterm()
        _tolerant_stdin()
    try:
        if command == "reindex":
            return reindex(settings)
        if command == "serve":
            return serve(settings)
        if command == "link":
            return print_link(settings, args.question)
        from bot.console import chat, console_language

        if command == "add":
            return add_article(settings, args.source, lang=console_language())
        if command == "stats":
            from bot.stats_command import run

            return run(settings, args.days, csv_file=args.csv, export_file=args.export_eval, lang=console_language())
        engine = Engine.open(settings.engine_config(), progress=sys.stderr.isatty())

        if command == "ask":
            return ask(engine, args.question, as_json=args.json, k=args.k, lang=console_language(), dialog=args.dialog)
        chat(engine, lang=console_language(), followup_minutes=settings.followup_minutes)
        return 0
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file-system fault the engine does not name itself
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
