"""What readers asked and how they voted, in an SQLite file that every worker on the host shares.

Stored per question: its text, the engine's outcome, the reader's interface language, the
passages shown (source, paragraph, answering sentence) and the 👍/👎 votes. No user name or id
is stored: a chat and a voter appear only as keyed hashes, with a salt created once in a file
beside the database (``<db>.salt``, mode 0600) and never logged, so the same chat asking again
can be counted but not named.

Several processes write at once: WAL mode, a busy timeout, one short ``BEGIN IMMEDIATE``
transaction per write, a fresh connection per call (so any thread may call). Writes are
idempotent: a question is keyed by its chat and its message id, a shown passage by its rank,
a vote by its page and voter, so a redelivered update adds nothing. A vote is stored only for an
answer page recorded in the same chat. Rows older than ``days``
are deleted when the store opens and at most once a day on a write.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import queue
import secrets
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

DAY = 86_400.0
SALT_BYTES = 32
WRITES_WAITING = 256  # feedback writes queued behind a slow database; more are dropped
WARN_SECONDS = 60.0  # while writes fail, one warning per this many seconds
_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    chat TEXT NOT NULL, message INTEGER NOT NULL, at REAL NOT NULL,
    question TEXT NOT NULL, outcome TEXT NOT NULL, lang TEXT NOT NULL,
    PRIMARY KEY (chat, message)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shown (
    chat TEXT NOT NULL, message INTEGER NOT NULL, page INTEGER NOT NULL, rank INTEGER NOT NULL,
    at REAL NOT NULL, source TEXT NOT NULL, paragraph INTEGER NOT NULL, sentence TEXT NOT NULL,
    PRIMARY KEY (chat, message, page, rank)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS votes (
    chat TEXT NOT NULL, message INTEGER NOT NULL, page INTEGER NOT NULL, voter TEXT NOT NULL,
    at REAL NOT NULL, vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    PRIMARY KEY (chat, message, page, voter)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS questions_at ON questions (at);
CREATE INDEX IF NOT EXISTS shown_at ON shown (at);
CREATE INDEX IF NOT EXISTS votes_at ON votes (at);
"""
TABLES = ("questions", "shown", "votes")
# The votes that count: those on an answer page the bot recorded (``v`` is the votes table).
RECORDED = "EXISTS (SELECT 1 FROM shown s WHERE s.chat = v.chat AND s.message = v.message AND s.page = v.page)"

VoteOutcome = Literal["new", "same", "changed", "unknown"]


class FeedbackError(Exception):
    """The feedback database cannot be used (unwritable, locked past the timeout, corrupt, full)."""


def plain(text: str) -> str:
    """``text`` without control characters, which a terminal would obey (ESC sequences, BEL): a line
    break or tab becomes a space, any other C0/C1 control is removed; ordinary spaces stay."""
    if text.isprintable():
        return text
    return "".join(" " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c) != "Cc")


@dataclass(frozen=True)
class Shown:
    """A passage as shown in an answer: where it is and its answering sentence."""

    source: str
    paragraph: int
    sentence: str = ""


def _read_or_create_salt(path: Path) -> bytes:
    """The salt in ``path``; created atomically (exactly one process wins) when missing."""
    try:
        return _read_salt(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(SALT_BYTES))
        with contextlib.suppress(FileExistsError):  # another worker's salt won
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_salt(path)


def _read_salt(path: Path) -> bytes:
    try:
        salt = bytes.fromhex(path.read_text("ascii").strip())
    except (ValueError, UnicodeDecodeError):
        salt = b""
    if len(salt) < 16:
        raise FeedbackError(f"the salt file {path} is damaged; move it away to start a new one")
    return salt


def _make_private(path: Path) -> None:
    """Create the database file readable by its owner only, and make an older one (and its -wal and
    -shm, which SQLite creates with the database's mode) so: it holds what readers asked."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


class Feedback:
    """The feedback database at ``path``; every method raises FeedbackError when SQLite or the disk fails."""

    def __init__(
        self, path: Path, *, days: int = 90, busy_seconds: float = 5.0, now: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.salt_path = path.with_name(path.name + ".salt")
        self.days = days
        self.busy_seconds = busy_seconds
        self.now = now
        self._salt: bytes | None = None
        self._purged_at = float("-inf")
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never shows the salt
        return f"Feedback({str(self.path)!r}, days={self.days})"

    # -- connections ------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (``BEGIN IMMEDIATE`` for a write), committed on success."""
        try:
            self._ensure_open()
            connection = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None)
            try:
                connection.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            finally:
                connection.close()
        except (sqlite3.Error, OSError) as exc:
            raise FeedbackError(f"feedback database {self.path}: {exc}") from None
        except OverflowError:  # an id SQLite cannot hold, which no Telegram message has
            raise FeedbackError(f"feedback database {self.path}: an id is out of range") from None

    def _ensure_open(self) -> None:
        if self._salt is not None:
            return
        with self._lock:
            if self._salt is not None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            salt = _read_or_create_salt(self.salt_path)
            _make_private(self.path)
            connection = sqlite3.connect(self.path, timeout=self.busy_seconds, isolation_level=None)
            try:
                connection.execute(f"PRAGMA busy_timeout = {int(self.busy_seconds * 1000)}")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.executescript(_SCHEMA)
            finally:
                connection.close()
            self._salt = salt

    def open(self) -> int:
        """Create the database and salt when missing, delete expired rows (how many); FeedbackError when it cannot."""
        try:
            self._ensure_open()
        except (sqlite3.Error, OSError) as exc:
            raise FeedbackError(f"feedback database {self.path}: {exc}") from None
        return self.purge()

    # -- pseudonyms -----------------------------------------------------------------

    def _hash(self, kind: str, value: int) -> str:
        assert self._salt is not None
        return hmac.new(self._salt, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]

    # -- writes ---------------------------------------------------------------------

    def record(
        self,
        chat_id: int,
        message_id: int,
        *,
        question: str,
        outcome: str,
        lang: str,
        page: int = 0,
        shown: Sequence[Shown] = (),
    ) -> None:
        """One page of an answer: the question (once, whatever the page) and the passages on the page,
        their texts without control characters (see ``plain``)."""
        at = self.now()
        with self._connection(write=True) as db:
            chat = self._hash("chat", chat_id)
            db.execute(
                "INSERT OR IGNORE INTO questions VALUES (?, ?, ?, ?, ?, ?)",
                (chat, message_id, at, plain(question), outcome, lang),
            )
            db.executemany(
                "INSERT OR IGNORE INTO shown VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (chat, message_id, page, page + n, at, plain(p.source), p.paragraph, plain(p.sentence))
                    for n, p in enumerate(shown)
                ],
            )
        self._purge_daily()

    def vote(
        self, chat_id: int, message_id: int, page: int, user_id: int, vote: int, at: float | None = None
    ) -> VoteOutcome:
        """Store ``user_id``'s vote (+1 or -1) on one page of an answer, pressed at ``at`` (default:
        now), replacing their earlier vote there unless that one was pressed later: two presses
        handled by two workers, each writing behind its own queue, may reach the database in
        either order, and the last press must win.

        "unknown" (and nothing stored) unless that page of the answer to message ``message_id`` was
        recorded in that chat: a vote button's data is the client's to forge. Else "new", "same"
        (pressed again) or "changed".
        """
        if vote not in (-1, 1):
            raise ValueError("a vote is +1 or -1")
        with self._connection(write=True) as db:
            chat = self._hash("chat", chat_id)
            shown = db.execute(
                "SELECT 1 FROM shown WHERE chat = ? AND message = ? AND page = ? LIMIT 1", (chat, message_id, page)
            ).fetchone()
            if shown is None:
                return "unknown"
            key = (chat, message_id, page, self._hash("user", user_id))
            row = db.execute(
                "SELECT vote FROM votes WHERE chat = ? AND message = ? AND page = ? AND voter = ?", key
            ).fetchone()
            db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chat, message, page, voter) DO UPDATE SET vote = excluded.vote, at = excluded.at "
                "WHERE excluded.at >= votes.at",
                (*key, self.now() if at is None else at, vote),
            )
        self._purge_daily()
        return "new" if row is None else "same" if int(row[0]) == vote else "changed"

    def purge(self) -> int:
        """Delete the rows older than ``days`` days; how many were deleted."""
        cutoff = self.now() - self.days * DAY
        deleted = 0
        with self._connection(write=True) as db:
            for table in TABLES:
                deleted += db.execute(f"DELETE FROM {table} WHERE at < ?", (cutoff,)).rowcount
        self._purged_at = self.now()
        if deleted:
            logger.info("feedback: deleted %d rows older than %d days", deleted, self.days)
        return deleted

    def _purge_daily(self) -> None:
        if self.now() - self._purged_at >= DAY:
            self.purge()

    # -- reads ----------------------------------------------------------------------

    def rows(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        """The rows of one read-only query (for the reports in ``bot.stats``)."""
        with self._connection(write=False) as db:
            return [tuple(row) for row in db.execute(sql, parameters).fetchall()]

    def count(self, table: str) -> int:
        """How many rows ``table`` holds."""
        if table not in TABLES:
            raise ValueError(f"no table {table}")
        return int(self.rows(f"SELECT count(*) FROM {table}")[0][0])


class Writer:
    """Feedback writes in one daemon thread of their own, so a locked or slow database never holds
    up the threads that answer questions; at most ``capacity`` wait, more are dropped.

    A write that fails (FeedbackError) or is dropped resolves to None. While writes fail, one
    warning per ``warn_seconds`` says how many were lost since the last one; one line says when
    writes succeed again.
    """

    def __init__(
        self,
        capacity: int = WRITES_WAITING,
        *,
        warn_seconds: float = WARN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queue: queue.Queue[tuple[Future[Any], Callable[[], Any]]] = queue.Queue(capacity)
        self.warn_seconds = warn_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._quiet_until: float | None = None  # not None while writes fail
        self._lost = 0  # since the last warning

    def submit(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue ``action(*args, **kwargs)``; its future resolves to what it returns, or None."""
        future: Future[Any] = Future()
        try:
            self._queue.put_nowait((future, partial(action, *args, **kwargs)))
        except queue.Full:
            self._failed("too many writes are waiting for the database")
            future.set_result(None)
            return future
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="feedback-writer", daemon=True)
                self._thread.start()
        return future

    def _work(self) -> None:
        while True:
            future, job = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except FeedbackError as exc:
                self._failed(str(exc))
                future.set_result(None)
            except BaseException as exc:  # a bug: the caller's await raises it
                future.set_exception(exc)
            else:
                self._succeeded()
                future.set_result(result)

    def _failed(self, reason: str) -> None:
        with self._lock:
            now = self._clock()
            if self._quiet_until is not None and now < self._quiet_until:
                self._lost += 1
                return
            lost, self._lost = self._lost, 0
            self._quiet_until = now + self.warn_seconds
        since = f" ({lost} more not stored since the last warning)" if lost else ""
        logger.warning("feedback not stored: %s%s", reason, since)

    def _succeeded(self) -> None:
        with self._lock:
            if self._quiet_until is None:
                return
            lost, self._lost, self._quiet_until = self._lost, 0, None
        logger.warning("feedback stored again (%d more were not stored since the last warning)", lost)
