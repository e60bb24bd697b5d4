"""The command line as a user runs it (a fresh process, settings from the environment), and its output per outcome."""

from __future__ import annotations

import io
import json
import os
import select
import signal
import socket
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO, cast

import pytest

from bot.cli import ask
from bot.console import chat, console_language
from index import Engine
from tests.bot.conftest import ANSWER_SENTENCE, HEDGE, OFF_TOPIC, QUESTION
from tests.conftest import ARTICLE, ARTICLE_SOURCE, ARTICLE_TITLE
from tests.support import processes
from tests.support.files import make_unreadable, no_file_writes
from tests.support.paths import article_corpus, copy_built

HEDGING = {"ANSWER_RELEVANCE": "1e9"}  # out of reach: every question with passages is hedged, whatever the calibration


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A corpus with the article, and no index yet."""
    article_corpus(tmp_path)
    return tmp_path


def folders(workdir: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``workdir``'s corpus and index folders as settings, and ``env``."""
    return {"CORPUS_DIR": str(workdir / "corpus"), "INDEX_DIR": str(workdir / "index"), **(env or {})}


def run(
    workdir: Path,
    *args: str | bytes,
    stdin: str | bytes = "",
    preexec: Callable[[], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in ``workdir`` over its folders, in the C locale unless ``env`` sets one."""
    return processes.run(*args, folder=workdir, env=folders(workdir, env), stdin=stdin, preexec=preexec)


def assert_one_error_line(result: subprocess.CompletedProcess[str], text: str) -> None:
    """The run failed with status 1 and ended with a single ``error:`` line holding ``text``, no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and text in errors[0], result.stderr
    assert result.stderr.splitlines()[-1] == errors[0]


def test_ask_json_from_stdin_answers_each_line(built_workdir: Path) -> None:
    questions = ["Wie is Maria Lvova-Belova?", "", "What is the capital of Australia?", "x" * 10_000]
    result = run(built_workdir, "ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3  # the blank line is not a question

    found, refused, too_long = lines
    assert found["question"] == "Wie is Maria Lvova-Belova?"
    assert found["answered"] is True and found["outcome"] in ("answered", "hedged")
    article = ARTICLE.read_text("utf-8")
    for passage in found["passages"]:
        assert set(passage) == {"text", "score", "source", "paragraph", "sentence", "title", "date", "url"}
        assert (passage["title"], passage["date"], passage["url"]) == (ARTICLE_TITLE, "2023-10", None)
        assert passage["text"] in article
        assert passage["sentence"] in passage["text"]
        assert passage["source"] == ARTICLE.name
        assert isinstance(passage["paragraph"], int)
        assert isinstance(passage["score"], float)
    assert "Lvova-Belova" in found["passages"][0]["text"]
    assert [p["score"] for p in found["passages"]] == sorted((p["score"] for p in found["passages"]), reverse=True)

    assert refused == {
        "question": "What is the capital of Australia?",
        "answered": False,
        "outcome": "refused",
        "passages": [],
    }
    assert set(too_long) == set(found) | {"error"}  # every line has the same keys
    assert too_long["answered"] is False and too_long["outcome"] == "refused" and too_long["passages"] == []
    assert "too long" in too_long["error"]


def test_a_weak_match_is_hedged_in_json_plain_text_and_chat(article_engine: Engine, hedging_engine: Engine) -> None:
    built = article_engine.config.corpus_dir.parent  # corpus/ and index/ of the shared engine: read, never rebuilt
    result = run(built, "ask", "--json", "-", stdin=f"{QUESTION}\n{OFF_TOPIC}\n", env=HEDGING)
    assert result.returncode == 0, result.stderr
    assert "rebuilding" not in result.stderr
    hedged, refused = (json.loads(line) for line in result.stdout.splitlines())
    assert hedged["outcome"] == "hedged" and hedged["answered"] is True
    assert hedged["passages"][0]["sentence"] == ANSWER_SENTENCE  # the same passages, only flagged
    assert refused["outcome"] == "refused" and refused["answered"] is False and refused["passages"] == []

    plain = run(built, "ask", QUESTION, env=HEDGING)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith(f"{HEDGE['en']}\n\n[{ARTICLE_SOURCE}, paragraph 7]\n**{ANSWER_SENTENCE}**")

    typed, shown = io.StringIO(f"{QUESTION}\n{OFF_TOPIC}\nquit\n"), io.StringIO()
    chat(hedging_engine, stdin=typed, stdout=shown)
    assert f"? {HEDGE['en']}\n\n[{ARTICLE_SOURCE}, paragraph 7]" in shown.getvalue()
    assert shown.getvalue().count(HEDGE["en"]) == 1 and "? The article does not say. It covers:" in shown.getvalue()


def test_the_console_speaks_dutch_in_a_dutch_locale(article_engine: Engine, hedging_engine: Engine) -> None:
    built = article_engine.config.corpus_dir.parent
    for locale in ({"LANG": "nl_NL.UTF-8"}, {"LANG": "en_US.UTF-8", "LC_ALL": "nl_BE.UTF-8"}):
        plain = run(built, "ask", "-", stdin=f"{QUESTION}\n{OFF_TOPIC}\n", env={**HEDGING, **locale})
        assert plain.returncode == 0, plain.stderr
        assert plain.stdout.startswith(
            f"? {QUESTION}\n{HEDGE['nl']}\n\n[{ARTICLE_SOURCE}, alinea 7]\n**{ANSWER_SENTENCE}**"
        )
        assert f"\n? {OFF_TOPIC}\nDat staat niet in het artikel. Het gaat over: {ARTICLE_TITLE}" in plain.stdout
    english = run(built, "ask", QUESTION, env={**HEDGING, "LANG": "nl_NL.UTF-8", "LC_ALL": "C"})
    assert english.stdout.startswith(f"{HEDGE['en']}\n\n[{ARTICLE_SOURCE}, paragraph 7]")

    typed, shown = io.StringIO(f"{QUESTION}\n{'x' * 5000}\n🙂\nquit\n"), io.StringIO()
    chat(hedging_engine, stdin=typed, stdout=shown, lang="nl")
    assert shown.getvalue().startswith(f"Stel een vraag over: {ARTICLE_TITLE}")
    assert f"? {HEDGE['nl']}\n\n[{ARTICLE_SOURCE}, alinea 7]" in shown.getvalue()
    limit = hedging_engine.config.max_question_chars
    assert f"? Die vraag is te lang (5000 tekens; het maximum is {limit}). Maak hem korter.\n" in shown.getvalue()
    assert "? Er valt niets te zoeken: de vraag heeft geen letter of cijfer.\n" in shown.getvalue()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "nl_NL.UTF-8"}, "nl"),
        ({"LANG": "nl"}, "nl"),
        ({"LANG": "en_GB.UTF-8", "LC_MESSAGES": "nl_BE"}, "nl"),
        ({"LANG": "nl_NL.UTF-8", "LC_ALL": "C.UTF-8"}, "en"),
        ({"LANG": "nl_NL.UTF-8", "LC_ALL": ""}, "nl"),
        ({"LANG": "nds_DE"}, "en"),
    ],
)
def test_the_console_language_follows_the_posix_locale(environ: dict[str, str], expected: str) -> None:
    assert console_language(environ) == expected


def test_a_clear_answer_has_no_hedge_line(sure_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert ask(sure_engine, QUESTION, as_json=True, k=None) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["outcome"] == "answered" and answer["passages"][0]["sentence"] == ANSWER_SENTENCE
    assert ask(sure_engine, QUESTION, as_json=False, k=None) == 0
    assert capsys.readouterr().out.startswith(f"[{ARTICLE_SOURCE}, paragraph 7]\n**{ANSWER_SENTENCE}**")
    typed, shown = io.StringIO(f"{QUESTION}\nquit\n"), io.StringIO()
    chat(sure_engine, stdin=typed, stdout=shown)
    assert f"? [{ARTICLE_SOURCE}, paragraph 7]\n**{ANSWER_SENTENCE}**" in shown.getvalue()
    assert HEDGE["en"] not in shown.getvalue()


def test_reindex_then_plain_ask_and_chat(workdir: Path) -> None:
    built = run(workdir, "reindex")
    assert built.returncode == 0, built.stderr
    assert "indexed 1 document, 8 paragraphs" in built.stdout

    chat = run(workdir, "chat", stdin="Wat moet Armenië doen als Poetin op bezoek komt?\n\nquit\n")
    assert chat.returncode == 0, chat.stderr
    assert "**Wil Poetin nu Armenië bezoeken, dan is de regering verplicht om hem aan te houden.**" in chat.stdout
    assert "rebuilding" not in chat.stderr  # the index built above was reused


def test_serve_without_token_points_at_the_way_out(workdir: Path) -> None:
    result = run(workdir, "serve")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert ".env.example" in result.stderr
    assert "python -m bot chat" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("TOP_K", "many"), ("WEBHOOK_SECRET", "has spaces!"), ("ADMIN_USER_IDS", "12,alice")],
)
def test_malformed_setting_is_named_in_one_line(workdir: Path, name: str, value: str) -> None:
    result = run(workdir, "ask", "hallo", env={name: value})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: setting {name}:")
    assert result.stderr.count("\n") == 1
    assert value not in result.stderr or name == "TOP_K"


def test_an_answer_bar_below_the_passage_bar_is_refused_in_one_line(workdir: Path) -> None:
    result = run(workdir, "ask", "hallo", env={"MIN_RELEVANCE": "5", "ANSWER_RELEVANCE": "4"})
    assert result.returncode == 2
    assert result.stderr == "error: setting ANSWER_RELEVANCE: Value error, must be at least MIN_RELEVANCE (5), is 4\n"


# ``python -m bot reindex``, held still once the index files are written and before they are published.
# Ctrl-C raises KeyboardInterrupt as in a terminal, also when the tests run as a background job
# (a shell starts those with SIGINT ignored, and Python then leaves it ignored).
REINDEX_HELD_WHILE_WRITING = """
import signal, sys, time, index.store
signal.signal(signal.SIGINT, signal.default_int_handler)
write = index.store.write_index
def held(folder, index):
    write(folder, index)
    print("written", flush=True)
    time.sleep(300)
index.store.write_index = held
from bot.cli import main
sys.exit(main(["reindex"]))
"""


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_signal_while_reindex_writes_leaves_nothing_behind(workdir: Path, stop: signal.Signals) -> None:
    index = workdir / "index"
    env = folders(workdir)
    with processes.start(code=REINDEX_HELD_WHILE_WRITING, folder=workdir, env=env, stdout=subprocess.PIPE) as reindex:
        reindex.wait_ready(line="written")
        assert len(list(index.glob(".building-*"))) == 1
        status = reindex.stop(stop, timeout=60)
    stderr = reindex.output()
    assert status == 128 + stop and "Traceback" not in stderr, stderr
    assert list(index.iterdir()) == []  # nothing half-written, nothing published


def test_corpus_files_that_cannot_be_read_are_named_and_the_rest_answered(workdir: Path) -> None:
    with open(os.path.join(os.fsencode(workdir / "corpus"), b"caf\xe9.txt"), "wb") as latin1_name:
        latin1_name.write(b"Een document met een latin-1 naam.")
    make_unreadable(workdir / "corpus" / "locked.txt")
    built = run(workdir, "reindex")
    assert built.returncode == 0, built.stderr
    assert "skipped caf\\xe9.txt: the file name is not UTF-8" in built.stderr
    assert "skipped locked.txt: cannot be read (" in built.stderr
    assert "indexed 1 document, 8 paragraphs" in built.stdout
    asked = run(workdir, "ask", QUESTION)
    assert asked.returncode == 0, asked.stderr
    assert ANSWER_SENTENCE in asked.stdout and "Traceback" not in asked.stderr


@pytest.fixture
def built_workdir(article_engine: Engine, tmp_path: Path) -> Path:
    """The article's corpus and its index, built already (a copy of the shared engine's folders)."""
    return copy_built(article_engine.config, tmp_path)


def test_an_unwritable_index_dir_is_one_line_and_its_index_still_serves(built_workdir: Path) -> None:
    (built_workdir / "corpus" / "kaas.txt").write_text("Gouda is een Nederlandse kaas.", "utf-8")  # a changed corpus
    rebuilt = run(built_workdir, "reindex", preexec=no_file_writes)
    assert_one_error_line(rebuilt, f"error: cannot write the index in {built_workdir / 'index'}: File too large")
    asked = run(built_workdir, "ask", QUESTION, preexec=no_file_writes)
    assert asked.returncode == 0, asked.stderr
    assert ANSWER_SENTENCE in asked.stdout
    assert "cannot rebuild (cannot write the index" in asked.stderr and "serving index v-" in asked.stderr


def test_a_pointer_that_is_a_folder_is_one_line(built_workdir: Path) -> None:
    (built_workdir / "index" / "CURRENT").unlink()
    (built_workdir / "index" / "CURRENT").mkdir()
    assert_one_error_line(run(built_workdir, "reindex"), "cannot write the index in")


def test_an_index_dir_that_is_a_file_is_one_line(workdir: Path) -> None:
    (workdir / "index").write_text("not a folder", "utf-8")
    assert_one_error_line(run(workdir, "ask", QUESTION), f"{workdir / 'index'} is not a folder")


def test_a_chat_names_what_the_index_covers_after_a_reindex(make_engine: Callable[..., Engine]) -> None:
    cycling = "title: Wielrennen\n\nDe Tour de France begon dit jaar in Bilbao. Pogačar won drie etappes.\n"
    engine = make_engine({"wielrennen.txt": cycling})
    engine.load()
    skating = "title: Schaatsen\n\nDe Elfstedentocht is sinds 1997 niet meer verreden. Het ijs was nooit dik genoeg.\n"
    lines = iter([OFF_TOPIC, OFF_TOPIC, "quit"])

    class Typed:
        """Typed lines; the corpus gains a document and is reindexed before the second question."""

        calls = 0

        def readline(self) -> str:
            self.calls += 1
            if self.calls == 2:
                (engine.config.corpus_dir / "schaatsen.txt").write_text(skating, encoding="utf-8")
                engine.reindex()
            return next(lines) + "\n"

    shown = io.StringIO()
    chat(engine, stdin=cast(TextIO, Typed()), stdout=shown)
    refusals = [line for line in shown.getvalue().splitlines() if "The article does not say." in line]
    assert refusals == [
        "? The article does not say. It covers: Wielrennen.",
        "? The article does not say. It covers: Schaatsen; Wielrennen.",
    ]


def run_bytes(workdir: Path, *args: str, stdin: bytes, env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """``python -m bot ARGS`` with raw bytes on stdin: status, stdout and stderr (decoded with replacement)."""
    done = run(workdir, *args, stdin=stdin, env=env)
    return done.returncode, done.stdout, done.stderr


NOT_UTF8 = "caf\xe9 Poetin?".encode("latin-1")  # a Latin-1 terminal's "café": byte 0xe9 alone is not UTF-8
JUNK = b"\x00\x1b[2J" + bytes(range(0x80, 0x100)) * 2  # binary junk on one line: NUL, an escape, no text


@pytest.mark.parametrize("locale", ["C.UTF-8", "en_US.UTF-8"])  # stdin decodes with surrogateescape, then strictly
def test_a_line_that_is_not_utf8_is_refused_in_one_line_and_the_rest_answered(built_workdir: Path, locale: str) -> None:
    stdin = NOT_UTF8 + b"\n" + JUNK + b"\n" + QUESTION.encode("utf-8") + b"\n"
    status, out, err = run_bytes(built_workdir, "ask", "-", stdin=stdin, env={"LANG": locale})
    assert status == 0 and "Traceback" not in err, err
    refused = [line for line in err.splitlines() if line.startswith("error:")]
    assert refused == [
        "error: line 1: the question is not valid UTF-8 text (an undecodable byte at character 4)",
        "error: line 2: the question is not valid UTF-8 text (an undecodable byte at character 6)",
    ]
    assert ANSWER_SENTENCE in out

    status, out, err = run_bytes(built_workdir, "ask", "--json", "-", stdin=stdin, env={"LANG": locale})
    assert status == 0 and "Traceback" not in err, err
    first, second, third = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    assert first["question"] == "caf\ufffd Poetin?" and "not valid UTF-8" in first["error"]
    assert second["outcome"] == "refused" and third["answered"] is True

    status, out, err = run_bytes(built_workdir, "chat", stdin=stdin, env={"LANG": locale})
    assert status == 0 and "Traceback" not in err, err
    assert out.count("That question is not valid UTF-8 text, so it was not searched.") == 2
    assert ANSWER_SENTENCE in out


def test_a_question_argument_that_is_not_utf8_is_one_line(built_workdir: Path) -> None:
    done = run(built_workdir, b"ask", NOT_UTF8)
    err = done.stderr
    assert done.returncode == 1 and "Traceback" not in err, err
    assert err.splitlines()[-1] == "error: the question is not valid UTF-8 text (an undecodable byte at character 4)"


@pytest.mark.parametrize("k", ["0", "-3", "two", "1.5"])
def test_fewer_than_one_passage_is_refused_at_parsing_in_one_line(workdir: Path, k: str) -> None:
    result = run(workdir, "ask", "-k", k, "--json", QUESTION)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: python -m bot ask: argument -k: must be a whole number of passages, at least 1: {k!r}\n"
    )


@pytest.mark.parametrize("webhook", [False, True])
def test_serve_without_a_reachable_bot_api_is_one_line(built_workdir: Path, webhook: bool) -> None:
    """Polling and webhook alike: the library's retry-loop record and traceback are not shown."""
    env = {"TELEGRAM_BOT_TOKEN": "123456:WELL-formed_token", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot"}
    if webhook:
        with socket.socket() as probe:  # a free port for the web server, which starts before the bot
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env |= {"WEBHOOK_URL": "https://bot.example.test/tg", "WEBHOOK_SECRET": "abc", "WEBHOOK_PORT": str(port)}
    result = run(built_workdir, "serve", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "cannot reach the Bot API at http://127.0.0.1:9/bot" in errors[0], result.stderr


def test_serve_with_a_malformed_token_is_refused_at_start_in_one_line(workdir: Path) -> None:
    result = run(workdir, "serve", env={"TELEGRAM_BOT_TOKEN": "abc"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: setting TELEGRAM_BOT_TOKEN: ") and "abc" not in result.stderr


@pytest.mark.parametrize("command", ["ask", "reindex"])
def test_an_empty_corpus_folder_is_named_in_one_line(tmp_path: Path, command: str) -> None:
    (tmp_path / "corpus").mkdir()
    result = run(tmp_path, command, *([QUESTION] if command == "ask" else []))
    folder = tmp_path / "corpus"
    assert_one_error_line(result, f"error: the corpus has no readable documents in {folder} (it takes .txt, .md,")


def test_an_unknown_key_in_dotenv_is_a_warning_naming_the_closest_setting(workdir: Path) -> None:
    (workdir / ".env").write_text("TOP_KK=5\nbot_username=news_answers_bot\nCOLOUR=blue\n", "utf-8")
    result = run(workdir, "link", "Wie is Maria Lvova-Belova?", env={"COLOUR_TOO": "not read from .env"})
    assert result.returncode == 0 and result.stdout.startswith("https://t.me/news_answers_bot?start="), result.stderr
    warnings = [line.split(" WARNING bot.cli: ")[1] for line in result.stderr.splitlines() if " WARNING " in line]
    assert warnings == [
        ".env: TOP_KK is not a setting (did you mean TOP_K?); it is ignored",
        ".env: COLOUR is not a setting; it is ignored",
    ]


def test_the_console_answers_help_and_sources_itself(article_engine: Engine) -> None:
    typed, shown = io.StringIO("/help\n/sources\n/bronnen\nquit\n"), io.StringIO()
    chat(article_engine, stdin=typed, stdout=shown)
    assert "\n? Type a question about the documents and press Enter;" in shown.getvalue()
    assert f"\n? Indexed documents:\n- {ARTICLE_SOURCE}, 8 paragraphs\n" in shown.getvalue()
    assert "\n? Unknown command /bronnen. Type /help to see what I understand.\n" in shown.getvalue()
    assert "does not say" not in shown.getvalue()
    typed, shown = io.StringIO("/help\n/sources\n"), io.StringIO()
    chat(article_engine, stdin=typed, stdout=shown, lang="nl")
    assert "\n? Typ een vraag over de documenten" in shown.getvalue()
    assert f"\n? Geïndexeerde documenten:\n- {ARTICLE_SOURCE}, 8 alinea's\n" in shown.getvalue()


def test_ask_from_stdin_in_plain_text_puts_each_question_above_its_answer(built_workdir: Path) -> None:
    result = run(built_workdir, "ask", "-", stdin=f"{QUESTION}\n\n{OFF_TOPIC}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"? {QUESTION}\n[{ARTICLE_SOURCE}, paragraph 7]\n")
    assert f"\n\n? {OFF_TOPIC}\nThe article does not say. It covers: {ARTICLE_SOURCE}.\n" in result.stdout
    single = run(built_workdir, "ask", QUESTION)
    assert single.stdout.startswith(f"[{ARTICLE_SOURCE}, paragraph 7]\n")  # one question: just its answer


def test_the_console_at_a_terminal_recalls_the_last_question_with_the_up_arrow(built_workdir: Path) -> None:
    """A pseudo-terminal: the up arrow (ESC [ A) brings the question back only through readline."""
    import pty

    leader, follower = pty.openpty()
    env = folders(built_workdir, {"TERM": "xterm"})
    console = processes.start("chat", folder=built_workdir, env=env, stdin=follower, stdout=follower)
    os.close(follower)
    shown = b""

    def until(wanted: bytes, count: int = 1) -> None:
        nonlocal shown
        while shown.count(wanted) < count:
            ready, _, _ = select.select([leader], [], [], 60)
            chunk = os.read(leader, 4096) if ready else b""
            assert chunk, shown.decode("utf-8", "replace")
            shown += chunk

    try:
        until(b"? ")
        os.write(leader, f"{QUESTION}\r".encode())
        until(b"paragraph 7]")
        os.write(leader, b"\x1b[A\r")  # the up arrow, then Enter: the same question again
        until(b"paragraph 7]", 2)
        os.write(leader, b"quit\r")
        assert console.stop(None, timeout=60) == 0
    finally:
        if console.process.poll() is None:
            console.process.kill()
        os.close(leader)
