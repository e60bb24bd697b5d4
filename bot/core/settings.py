"""Settings: read once from the environment and ``.env``, typed and validated, then passed in."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.deeplinks import load_prepared
from index import DEFAULT_MODEL, EngineConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# What @BotFather issues: the bot's numeric id, a colon, then the secret part.
_BOT_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,256}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")
# Shown by /start and /help; they fit the article in corpus/ (EXAMPLE_QUESTIONS overrides them).
DEFAULT_EXAMPLES = (
    "Wat moet Armenië doen als Poetin op bezoek komt?",
    "Waarom verslechteren de banden tussen Armenië en Rusland?",
    "Hoe reageert het Kremlin op de aansluiting bij het Strafhof?",
)


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


class Settings(BaseSettings):
    """Every setting of the bot; each one is documented in ``.env.example``."""

    # allow_inf_nan=False: every float setting is finite (nan or inf would switch a check off or overflow).
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", allow_inf_nan=False)

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str | None = None
    admin_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    bot_username: str | None = None  # what `python -m bot link` puts in https://t.me/<username>

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "data" / "index"
    embedding_model: str = DEFAULT_MODEL
    query_prompt: str = ""
    document_prompt: str = ""
    top_k: int = Field(default=3, ge=1, le=10)
    # Unset (None): the model's calibrated bars (see ``index.search``).
    min_relevance: float | None = None
    answer_relevance: float | None = None
    max_question_chars: int = Field(default=1000, ge=10, le=4000)
    index_refresh_seconds: float = Field(default=2.0, gt=0)
    # What readers asked and voted (see ``bot.core.feedback``); unset: ``feedback.sqlite3`` in INDEX_DIR.
    feedback_db: Path | None = None
    feedback_days: int = Field(default=90, ge=1, le=36500)

    throttle_questions: int = Field(default=5, ge=1)
    throttle_seconds: float = Field(default=10.0, gt=0)
    # A question costs one unit of that window per this many characters begun (see ``bot.core.shared.throttle``).
    throttle_question_chars: int = Field(default=200, ge=1)
    inline_throttle_queries: int = Field(default=20, ge=1)
    inline_throttle_seconds: float = Field(default=10.0, gt=0)
    max_upload_bytes: int = Field(default=1_000_000, ge=1)
    example_questions: Annotated[tuple[str, ...], NoDecode] = DEFAULT_EXAMPLES
    # Deep links by name (see ``bot.deeplinks``): PREPARED_QUESTIONS names a TOML file, read here.
    prepared_questions: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    inline_cache_seconds: int = Field(default=300, ge=0, le=86400)
    # How long a chat remembers its last question for follow-ups (see ``bot.core.shared.conversations``); 0: never.
    followup_minutes: float = Field(default=10, ge=0, le=1440)
    # How long a "More passages" button keeps working (see ``bot.core.shared.buttons``).
    more_button_hours: float = Field(default=48, gt=0, le=24 * 366)

    # Articles fetched from the web (``bot.core.fetch``): pages and feeds on public addresses only,
    # unless ALLOW_PRIVATE_URLS (a newsroom's intranet, or tests on loopback).
    allow_private_urls: bool = False
    max_page_bytes: int = Field(default=2_000_000, ge=1024)
    fetch_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    feeds: Annotated[tuple[str, ...], NoDecode] = ()
    feed_minutes: float = Field(default=15.0, gt=0)

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"  # behind nginx; 0.0.0.0 would expose a worker directly
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_max_body_bytes: int = Field(default=1_000_000, ge=1024)
    webhook_max_connections: int = Field(default=1000, ge=1)
    # Workers on several hosts share update ids, the question throttle and the reply budget here
    # (see ``bot.core.shared``); unset: a folder in INDEX_DIR and per-process limits. May hold a password.
    redis_url: SecretStr | None = None

    log_level: str = "INFO"

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            if not all(part.lstrip("-").isdigit() for part in parts):
                raise ValueError("must be comma-separated numeric Telegram user ids")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("example_questions", mode="before")
    @classmethod
    def _split_examples(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split("|") if part.strip()) or DEFAULT_EXAMPLES
        return value

    @field_validator("feeds", mode="before")
    @classmethod
    def _split_feeds(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("feeds")
    @classmethod
    def _feed_urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise ValueError(f"must be comma-separated http:// or https:// feed URLs, not {url!r}")
        return value

    @field_validator("prepared_questions", mode="before")
    @classmethod
    def _read_prepared(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str | Path):
            limit = info.data.get("max_question_chars", 1000)
            return load_prepared(Path(value), limit) if str(value).strip() else {}
        return value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        name = value.strip().removeprefix("@") if value is not None else None
        if name is not None and not _USERNAME.fullmatch(name):
            raise ValueError("must be the bot's Telegram username, 5-32 letters, digits or _ (without @)")
        return name

    @field_validator(
        "telegram_bot_token",
        "webhook_secret",
        "telegram_api_file_url",
        "webhook_url",
        "redis_url",
        "feedback_db",
        "bot_username",
        "min_relevance",
        "answer_relevance",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("corpus_dir", "index_dir", "embedding_model", "webhook_listen", mode="before")
    @classmethod
    def _not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():  # an empty path would be the current folder
            raise ValueError("must not be empty")
        return value

    @field_validator("telegram_api_base_url", "telegram_api_file_url", "webhook_url")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if info.field_name == "webhook_url" and parts.scheme != "https":
            raise ValueError("must be an https:// URL (Telegram sends updates over HTTPS only)")
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.strip()

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it may hold a password.
        if value is None:
            return None
        url = value.get_secret_value().strip()
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises ValueError for a port that is not a number in range)
        except ValueError:
            parts = None
        if parts is None or not (
            (parts.scheme in ("redis", "rediss") and parts.hostname) or (parts.scheme == "unix" and parts.path)
        ):
            raise ValueError("must be a redis://host[:port][/db], rediss://host... or unix:///path URL")
        return SecretStr(url)

    @field_validator("telegram_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Refused here, in one line, rather than after a round trip to Telegram; never repeated.
        if value is not None and not _BOT_TOKEN.fullmatch(value.get_secret_value().strip()):
            raise ValueError("must be the token from @BotFather: the bot's numeric id, a colon, then the secret part")
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("answer_relevance")
    @classmethod
    def _not_below_min_relevance(cls, value: float | None, info: ValidationInfo) -> float | None:
        floor = info.data.get("min_relevance")  # absent when MIN_RELEVANCE itself is malformed
        if value is not None and floor is not None and value < floor:
            raise ValueError(f"must be at least MIN_RELEVANCE ({floor:g}), is {value:g}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @property
    def webhook_path(self) -> str:
        """The path Telegram POSTs to: the path of ``WEBHOOK_URL``."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def feedback_path(self) -> Path:
        """The feedback database: FEEDBACK_DB, or ``feedback.sqlite3`` beside the index versions."""
        return self.feedback_db or self.index_dir / "feedback.sqlite3"

    @property
    def buttons_path(self) -> Path:
        """Where "More passages" buttons are kept without REDIS_URL: ``buttons.sqlite3`` in INDEX_DIR."""
        return self.index_dir / "buttons.sqlite3"

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            corpus_dir=self.corpus_dir,
            index_dir=self.index_dir,
            model=self.embedding_model,
            query_prompt=self.query_prompt,
            document_prompt=self.document_prompt,
            top_k=self.top_k,
            max_question_chars=self.max_question_chars,
            min_relevance=self.min_relevance,
            answer_relevance=self.answer_relevance,
            refresh_seconds=self.index_refresh_seconds,
        )


def unknown_dotenv_keys(env_file: Path | str = ".env") -> list[str]:
    """A warning for each key of ``env_file`` that is not a setting (a typo such as ``TOP_KK=5``,
    which pydantic-settings ignores), naming the closest setting. Only the file: the process
    environment holds many variables that are not the bot's."""
    path = Path(env_file)
    if not path.is_file():
        return []
    try:
        keys = [key for key in dotenv_values(path, encoding="utf-8") if key]
    except (OSError, UnicodeDecodeError):  # load_settings has reported it already
        return []
    known = sorted(name.upper() for name in Settings.model_fields)
    found = []
    for key in keys:
        if key.upper() in known:
            continue
        close = difflib.get_close_matches(key.upper(), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        found.append(f"{path}: {key} is not a setting{hint}; it is ignored")
    return found


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one line per bad setting."""
    try:
        return Settings(**overrides)
    except UnicodeDecodeError as exc:  # pydantic-settings reads .env itself, before any validation
        raise SettingsError(f"the .env file is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise SettingsError(f"cannot read the .env file: {exc.strerror or exc}") from None
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            lines.append(f"setting {name}: {error['msg']}")
        raise SettingsError("\n".join(lines)) from None
