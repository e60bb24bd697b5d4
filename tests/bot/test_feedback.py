"""The feedback store: idempotent writes, votes that change, retention by a clock the test sets, no ids."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.core.feedback import DAY, Feedback, FeedbackError, Shown, Writer

PASSAGES = [Shown("armenia.txt", 7, "Wil Poetin nu Armenië bezoeken."), Shown("armenia.txt", 3, "De aansluiting.")]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Feedback:
    feedback = Feedback(tmp_path / "fb" / "feedback.sqlite3", days=90, now=clock)
    feedback.open()
    return feedback


def ask(store: Feedback, chat: int = 5001, message: int = 1, question: str = "Wat moet Armenië doen?") -> None:
    store.record(chat, message, question=question, outcome="answered", lang="nl", shown=PASSAGES)


def test_a_redelivered_question_is_stored_once_and_a_later_page_adds_its_passages(store: Feedback) -> None:
    ask(store)
    ask(store)  # the same update again
    store.record(5001, 1, question="Wat moet Armenië doen?", outcome="answered", lang="nl", page=2, shown=PASSAGES)
    ask(store, chat=5002)  # the same message id in another chat is another question
    assert (store.count("questions"), store.count("shown")) == (2, 6)
    assert store.rows("SELECT journal_mode FROM pragma_journal_mode")[0][0] == "wal"


def test_a_vote_is_stored_once_per_page_and_reader_and_a_second_press_changes_it(store: Feedback) -> None:
    ask(store)
    store.record(5001, 1, question="Wat moet Armenië doen?", outcome="answered", lang="nl", page=3, shown=PASSAGES)
    assert store.vote(5001, 1, 0, 77, 1) == "new"
    assert store.vote(5001, 1, 0, 77, 1) == "same"  # pressed again: still one 👍
    assert store.vote(5001, 1, 0, 77, -1) == "changed"
    assert store.vote(5001, 1, 0, 78, 1) == "new"  # another reader in a group
    assert store.vote(5001, 1, 3, 77, 1) == "new"  # another page
    assert sorted(store.rows("SELECT page, vote FROM votes")) == [(0, -1), (0, 1), (3, 1)]
    # Pages the bot never recorded in that chat: nothing is stored.
    assert [store.vote(*forged, 77, -1) for forged in ((5001, 2, 0), (5001, 1, 1), (5002, 1, 0))] == ["unknown"] * 3
    assert store.count("votes") == 3
    with pytest.raises(ValueError, match="vote"):
        store.vote(5001, 1, 0, 77, 0)


def test_a_press_written_after_a_later_one_does_not_replace_it(store: Feedback, clock: Clock) -> None:
    """Two workers each write behind their own queue: a 👍 pressed first may reach the database
    after the 👎 pressed next, and the 👎 must stand."""
    ask(store)
    first, second = clock.now, clock.now + 2.0
    assert store.vote(5001, 1, 0, 77, -1, second) == "new"
    store.vote(5001, 1, 0, 77, 1, first)  # the earlier press, written late
    assert store.rows("SELECT vote, at FROM votes") == [(-1, second)]
    assert store.vote(5001, 1, 0, 77, 1, second + 1.0) == "changed"  # a press after both replaces it
    assert store.rows("SELECT vote FROM votes") == [(1,)]


def test_rows_older_than_the_retention_are_deleted_at_start_and_once_a_day(tmp_path: Path, clock: Clock) -> None:
    store = Feedback(tmp_path / "feedback.sqlite3", days=90, now=clock)
    store.open()
    ask(store, message=1)
    store.vote(5001, 1, 0, 77, 1)
    clock.now += 60 * DAY
    ask(store, message=2)
    clock.now += 31 * DAY  # the first question is 91 days old, the second 31
    reopened = Feedback(store.path, days=90, now=clock)
    assert reopened.open() == 4  # question, two passages, vote
    assert reopened.rows("SELECT message FROM questions") == [(2,)]
    clock.now += 60 * DAY  # the second is 91 days old; the next write, a day after the last purge, deletes it
    ask(reopened, message=3)
    assert reopened.rows("SELECT message FROM questions") == [(3,)]
    assert Feedback(store.path, days=200, now=clock).open() == 0


def test_workers_share_one_salt_and_the_file_holds_no_ids(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "feedback.sqlite3"
    a, b = Feedback(path, now=clock), Feedback(path, now=clock)
    chat, user = 987654321, 123456789
    a.record(chat, 11, question="Wie is Lvova-Belova?", outcome="hedged", lang="en", shown=PASSAGES)
    b.record(chat, 12, question="Wie is Lvova-Belova?", outcome="refused", lang="en")
    assert b.vote(chat, 11, 0, user, 1) == "new"
    assert a.rows("SELECT count(DISTINCT chat) FROM questions") == [(1,)]  # the same chat, counted as one
    salt = (tmp_path / "feedback.sqlite3.salt").read_text()
    assert (tmp_path / "feedback.sqlite3.salt").stat().st_mode & 0o077 == 0
    assert salt not in repr(a)
    for file in tmp_path.glob("feedback.sqlite3*"):
        if file.name.endswith(".salt"):
            continue
        data = file.read_bytes()
        assert str(chat).encode() not in data and str(user).encode() not in data


def _write_many(path: str, worker: int) -> None:
    store = Feedback(Path(path))
    for n in range(150):
        store.record(worker, n, question=f"vraag {n}", outcome="hedged", lang="nl", shown=PASSAGES[:1])
        store.vote(worker, n, 0, worker, 1 if n % 2 else -1)


def test_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(path), n)) for n in (1, 2, 3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    store = Feedback(path)
    assert (store.count("questions"), store.count("shown"), store.count("votes")) == (450, 450, 450)


def test_a_locked_or_unwritable_database_raises_one_error(tmp_path: Path, store: Feedback) -> None:
    quick = Feedback(store.path, busy_seconds=0.2)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(FeedbackError, match="locked"):
            ask(quick)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ask(quick)  # free again
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(FeedbackError, match="feedback database"):
        Feedback(blocker / "feedback.sqlite3").open()
    (tmp_path / "broken.sqlite3.salt").write_text("short")
    with pytest.raises(FeedbackError, match="salt"):
        Feedback(tmp_path / "broken.sqlite3").open()


def test_the_writer_drops_what_does_not_fit_and_warns_once_a_minute(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.core.feedback")
    writer = Writer(capacity=3, warn_seconds=60, clock=clock)
    release = threading.Event()
    first = writer.submit(release.wait)
    while not first.running():  # the thread took it; three more may wait
        time.sleep(0.01)
    waiting = [writer.submit(lambda n=n: n) for n in range(5)]
    assert [f.result(timeout=0) for f in waiting[3:]] == [None, None]  # dropped at once
    release.set()
    assert [f.result(timeout=5) for f in waiting[:3]] == [0, 1, 2]
    broken = Feedback(tmp_path / "a-file" / "feedback.sqlite3")
    (tmp_path / "a-file").write_text("not a folder")
    for _ in range(20):
        assert writer.submit(ask, broken).result(timeout=5) is None
    clock.now += 61
    assert writer.submit(ask, broken).result(timeout=5) is None
    assert writer.submit(lambda: "ok").result(timeout=5) == "ok"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5, lines
    assert "too many writes are waiting" in lines[0] and "stored again (1 more" in lines[1]
    assert "a-file" in lines[2] and "19 more not stored" in lines[3] and "stored again (0 more" in lines[4]


def test_the_database_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    store = Feedback(path)
    store.open()
    reader = sqlite3.connect(path)  # while a connection is open, the -wal and -shm files stay
    reader.execute("SELECT count(*) FROM questions").fetchall()
    ask(store)
    assert store.vote(5001, 1, 0, 77, 1) == "new"
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["feedback.sqlite3", "feedback.sqlite3-shm", "feedback.sqlite3-wal", "feedback.sqlite3.salt"]
    for file in tmp_path.iterdir():  # other local users can read none of them
        assert file.stat().st_mode & 0o077 == 0, (file.name, oct(file.stat().st_mode))
    reader.close()
    path.chmod(0o644)  # a database created before: made private when opened
    Feedback(path).open()
    assert path.stat().st_mode & 0o077 == 0


def test_an_id_sqlite_cannot_hold_is_one_error(tmp_path: Path) -> None:
    store = Feedback(tmp_path / "feedback.sqlite3")
    with pytest.raises(FeedbackError, match="out of range"):
        ask(store, message=2**70)
    with pytest.raises(FeedbackError, match="out of range"):
        store.vote(5001, 2**70, 0, 77, 1)
