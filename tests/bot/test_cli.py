"""The command line as a user runs it: a fresh process, settings from the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ARTICLE

SETTINGS = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET", "CORPUS_DIR", "INDEX_DIR", "TOP_K")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus)
    return tmp_path


def run(workdir: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    environment.update(CORPUS_DIR=str(workdir / "corpus"), INDEX_DIR=str(workdir / "index"), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=environment,
        timeout=300,
    )


def test_ask_json_from_stdin_answers_each_line(workdir: Path) -> None:
    questions = ["Wie is Maria Lvova-Belova?", "", "What is the capital of Australia?", "x" * 10_000]
    result = run(workdir, "ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3  # the blank line is not a question

    found, refused, too_long = lines
    assert found["question"] == "Wie is Maria Lvova-Belova?"
    assert found["answered"] is True
    article = ARTICLE.read_text("utf-8")
    for passage in found["passages"]:
        assert set(passage) == {"text", "score", "source", "paragraph", "sentence"}
        assert passage["text"] in article
        assert passage["sentence"] in passage["text"]
        assert passage["source"] == ARTICLE.name
        assert isinstance(passage["paragraph"], int)
        assert isinstance(passage["score"], float)
    assert "Lvova-Belova" in found["passages"][0]["text"]
    assert [p["score"] for p in found["passages"]] == sorted((p["score"] for p in found["passages"]), reverse=True)

    assert refused == {"question": "What is the capital of Australia?", "answered": False, "passages": []}
    assert too_long["answered"] is False
    assert "too long" in too_long["error"]


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
    result = run(workdir, "ask", "hallo", **{name: value})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: setting {name}:")
    assert result.stderr.count("\n") == 1
    assert value not in result.stderr or name == "TOP_K"
