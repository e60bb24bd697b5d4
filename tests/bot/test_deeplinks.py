"""Deep-link payloads and prepared questions (plain functions), and ``python -m bot link``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.deeplinks import PAYLOAD_LIMIT, decode, encode, load_prepared, payload_for, resolve
from bot.core.settings import SettingsError, load_settings
from tests.bot.conftest import QUESTION
from tests.bot.test_cli import run
from tests.conftest import PROJECT

SHORT = "Wie is Maria Lvova-Belova?"
PREPARED = f'poetin-bezoek = "{QUESTION}"\nkremlin = "  Hoe reageert   het Kremlin? "\n'


@pytest.mark.parametrize("question", [SHORT, "Wat zegt het Kremlin?", "Ünïcödé & <tags>?", "Waarom?"])
def test_an_encoded_question_fits_a_link_and_decodes_back(question: str) -> None:
    payload = encode(question)
    assert len(payload) <= PAYLOAD_LIMIT and payload.replace("-", "").replace("_", "").isalnum()
    assert decode(payload) == question and resolve(payload, {}).question == question


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("A" * 65, "link_too_long"),
        ("abc$def", "link_bad_characters"),
        ("abc def", "link_bad_characters"),
        ("wat%20nu", "link_bad_characters"),
        ("onbekende-vraag", "link_unknown"),
        ("abcde", "link_unknown"),  # not base64 at all
        ("__8", "link_unknown"),  # base64 of bytes that are not UTF-8
        ("AAAA", "link_unknown"),  # UTF-8, but control characters
        ("MTIz", "link_unknown"),  # "123": no letter, so not a question
    ],
)
def test_an_invalid_payload_says_why_and_asks_nothing(payload: str, problem: str) -> None:
    opened = resolve(payload, {"kremlin": "Hoe reageert het Kremlin?"})
    assert opened.question is None and opened.problem == problem


def test_a_prepared_name_comes_before_an_encoding(tmp_path: Path) -> None:
    (tmp_path / "q.toml").write_text(PREPARED, "utf-8")
    prepared = load_prepared(tmp_path / "q.toml", max_chars=1000)
    assert prepared == {"poetin-bezoek": QUESTION, "kremlin": "Hoe reageert het Kremlin?"}
    assert resolve("kremlin", prepared).question == "Hoe reageert het Kremlin?"
    assert payload_for(f" {QUESTION}  ", prepared) == "poetin-bezoek"  # too long to encode, but it has a name
    assert payload_for(SHORT, prepared) == encode(SHORT)
    with pytest.raises(ValueError, match=r"takes 66 characters in a link, more than Telegram's 64"):
        payload_for(QUESTION, {})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'kremlin = "Hoe?', "is not valid TOML"),
        (b"kremlin = 5", "kremlin must be a question in quotes"),
        (b'kremlin = "   "', "kremlin must be a question in quotes"),
        (b'[vragen]\nkremlin = "Hoe?"', "vragen must be a question in quotes"),
        (b'"met spatie" = "Hoe?"', "'met spatie' must be 1-64 characters"),
        (b'lang = "' + b"x" * 30 + b'"', "longer than MAX_QUESTION_CHARS (20)"),
        (b'kremlin = "caf\xe9"', "is not UTF-8 text"),
    ],
)
def test_a_bad_prepared_file_stops_start_up_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "q.toml"
    path.write_bytes(content)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, prepared_questions=str(path), max_question_chars=20)
    assert str(raised.value).startswith("setting PREPARED_QUESTIONS: ") and message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_python_m_bot_link_prints_the_link_or_one_line_why_not(tmp_path: Path) -> None:
    (tmp_path / "q.toml").write_text(PREPARED, "utf-8")
    env = {"BOT_USERNAME": "@article_test_bot", "PREPARED_QUESTIONS": str(tmp_path / "q.toml")}
    short = run(tmp_path, "link", SHORT, env=env)
    assert (short.returncode, short.stdout) == (0, f"https://t.me/article_test_bot?start={encode(SHORT)}\n")
    named = run(tmp_path, "link", QUESTION, env=env)
    assert named.stdout == "https://t.me/article_test_bot?start=poetin-bezoek\n"
    too_long = run(tmp_path, "link", QUESTION + " En daarna?", env=env)
    assert too_long.returncode == 1 and too_long.stdout == ""
    assert too_long.stderr.startswith("error: the question takes ") and too_long.stderr.count("\n") == 1
    anonymous = run(tmp_path, "link", SHORT)
    assert anonymous.returncode == 2 and anonymous.stderr.startswith("error: BOT_USERNAME is not set")
    broken = run(
        tmp_path, "link", SHORT, env={"BOT_USERNAME": "article_test_bot", "PREPARED_QUESTIONS": str(tmp_path / "nope")}
    )
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("error: setting PREPARED_QUESTIONS: Value error, cannot read ")


def test_the_example_file_of_prepared_questions_loads_and_links_by_name() -> None:
    prepared = load_prepared(PROJECT / "prepared-questions.example.toml", max_chars=1000)
    assert prepared["poetin-bezoek"] == QUESTION
    assert all(resolve(name, prepared).question == question for name, question in prepared.items())
