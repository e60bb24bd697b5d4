"""Settings that shape answers: the relevance bars follow the engine and are checked against each other."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from bot.core.settings import Settings, SettingsError, load_settings
from index import EngineConfig
from tests.conftest import PROJECT

ENGINE_DEFAULTS = {f.name: f.default for f in dataclasses.fields(EngineConfig)}


@pytest.fixture(autouse=True)
def _no_relevance_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIN_RELEVANCE", raising=False)
    monkeypatch.delenv("ANSWER_RELEVANCE", raising=False)


@pytest.mark.parametrize("value", [None, "", " "], ids=["unset", "empty", "blank"])
def test_unset_or_blank_relevance_bars_are_the_engines_calibrated_ones(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("MIN_RELEVANCE", value)
        monkeypatch.setenv("ANSWER_RELEVANCE", value)
    config = load_settings(_env_file=None).engine_config()
    assert config.min_relevance == ENGINE_DEFAULTS["min_relevance"]
    assert config.answer_relevance == ENGINE_DEFAULTS["answer_relevance"]


def test_the_answer_bar_reaches_the_engine_and_may_equal_the_passage_bar() -> None:
    config = load_settings(_env_file=None, min_relevance=1.5, answer_relevance=1.5).engine_config()
    assert (config.min_relevance, config.answer_relevance) == (1.5, 1.5)


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"min_relevance": 5, "answer_relevance": 4}, "setting ANSWER_RELEVANCE: Value error, must be at least"),
        ({"answer_relevance": "nan"}, "setting ANSWER_RELEVANCE: Input should be a finite number"),
        ({"min_relevance": "inf"}, "setting MIN_RELEVANCE: Input should be a finite number"),
    ],
)
def test_bad_relevance_bars_are_refused_in_one_line(values: dict[str, object], error: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, **values)
    assert str(raised.value).startswith(error) and "\n" not in str(raised.value)


def test_the_feedback_database_lives_in_the_index_folder_unless_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDBACK_DB", raising=False)
    settings = load_settings(_env_file=None, index_dir="/srv/index")
    assert str(settings.feedback_path) == "/srv/index/feedback.sqlite3" and settings.feedback_days == 90
    assert str(load_settings(_env_file=None, feedback_db="/srv/fb.db").feedback_path) == "/srv/fb.db"
    assert str(load_settings(_env_file=None, index_dir="/i", feedback_db=" ").feedback_path) == "/i/feedback.sqlite3"
    for days in (0, -3, "soon"):
        with pytest.raises(SettingsError, match=r"^setting FEEDBACK_DAYS: ") as raised:
            load_settings(_env_file=None, feedback_days=days)
        assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("MIN_RELEVANCE", "-inf", "Input should be a finite number"),
        ("THROTTLE_SECONDS", "inf", "Input should be a finite number"),
        ("INDEX_REFRESH_SECONDS", "inf", "Input should be a finite number"),
        ("EMBEDDING_MODEL", "", "must not be empty"),
        ("CORPUS_DIR", "", "must not be empty"),
        ("INDEX_DIR", " ", "must not be empty"),
        ("TELEGRAM_API_BASE_URL", "garbage", "must be an http:// or https:// URL with a host"),
        ("TELEGRAM_API_FILE_URL", "https:///file/bot", "must be an http:// or https:// URL with a host"),
        ("WEBHOOK_URL", "http://bot.example.com/tg", "must be an https:// URL"),
        ("REDIS_URL", "localhost:6379", "must be a redis://host[:port][/db], rediss://host... or unix:///path URL"),
        ("REDIS_URL", "https://cache.example.com", "must be a redis://"),
        ("REDIS_URL", "redis://:pw@cache.example.com:99999/0", "must be a redis://"),
        ("REDIS_URL", "redis:///0", "must be a redis://"),
        ("REDIS_URL", "unix://", "must be a redis://"),
    ],
)
def test_a_setting_that_would_slip_through_stops_start_up_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value).startswith(f"setting {name}: ") and error in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_dotenv_that_is_not_utf8_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"TOP_K=3\nEXAMPLE_QUESTIONS=caf\xe9\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=r"^the \.env file is not UTF-8 text \(byte 29: .*\)$"):
        load_settings()


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "rediss://bot:s3cret@cache.example.com:6380/2", "unix:///run/redis/redis.sock"],
)
def test_a_redis_url_is_a_secret_and_blank_is_unset(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("REDIS_URL", f" {url} ")
    settings = load_settings(_env_file=None)
    assert settings.redis_url is not None and settings.redis_url.get_secret_value() == url
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    monkeypatch.setenv("REDIS_URL", " ")
    assert load_settings(_env_file=None).redis_url is None


def test_a_refused_redis_url_does_not_repeat_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2-pass@cache.example.com:notaport/0")
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value).startswith("setting REDIS_URL: ") and "hunter2-pass" not in str(raised.value)


def test_env_example_lists_every_setting_and_only_settings() -> None:
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (PROJECT / ".env.example").read_text("utf-8"), re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


@pytest.mark.parametrize("token", ["abc", "123456", ":abc", "123456:", "12ab:cdef", "123456:has space", "123456:é"])
def test_a_malformed_bot_token_stops_start_up_in_one_line_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert str(raised.value) == (
        "setting TELEGRAM_BOT_TOKEN: Value error, must be the token from @BotFather: "
        "the bot's numeric id, a colon, then the secret part"
    )


def test_a_well_formed_bot_token_is_kept_without_its_surrounding_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", " 123456:ABC-def_GHI ")
    token = load_settings(_env_file=None).telegram_bot_token
    assert token is not None and token.get_secret_value() == "123456:ABC-def_GHI"
