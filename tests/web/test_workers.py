"""Two ``python -m bot serve`` workers sharing one index: load, /reindex under load, switching, SIGTERM.

The workers are real processes (each loads the model once per store) talking to the Bot API
stub; the figures are printed. Every test runs twice: with the update ids in INDEX_DIR's
folder (one host), and with REDIS_URL set to a real redis-server on loopback (several hosts),
which also holds the throttle and the reply budget, and is stopped once mid-run. The tests fail
on a lost, duplicated, failed or empty answer, or a worker still serving the old index after a
few seconds, never on a time. Replies leave through the rate limiter (about 30 messages a
second, Telegram's own limit: per worker with the folder, for both together with Redis), which
bounds the throughput: a load is CHATS x PER_CHAT updates, enough to queue behind the limiter's
burst on every worker and more than one budget sends in WINDOW seconds, so that two workers each
keeping a budget of their own would fail the shared budget's bound.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.core.feedback import Feedback
from bot.core.shared.link import RETRY_SECONDS
from index import Engine
from tests.support.botapi import TOKEN, BotApiStub, Call, Fault
from tests.support.paths import copy_built
from tests.support.processes import SECRET, WEBHOOK_PATH
from tests.support.redis_server import RedisServer, running_redis
from tests.support.updates import callback_update, message_update
from tests.web.workers import Worker, post_all, start_worker

CHATS = 50
PER_CHAT = 4  # questions from each chat at once
ADMIN = 42
QUESTIONS = [
    "Wat betekent de aansluiting bij het Strafhof voor Poetin?",
    "Waarom verslechteren de banden tussen Armenië en Rusland?",
    "Welke bondgenoten zoekt de Armeense regering?",
    "Hoe reageert het Kremlin op de aansluiting?",
    "Wat gebeurde er met Nagorno-Karabach?",
]
NEW_DOCUMENT = (
    "date 2023-11\n"
    "De Zalmbrug in Zwolle is een nieuwe fietsbrug over de IJssel. De brug is 412 meter lang en werd in "
    "november geopend door de burgemeester.\n"
)
NEW_QUESTION = "Hoe lang is de Zalmbrug in Zwolle?"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
BUDGET = 30  # Telegram's messages a second per bot, which workers sharing Redis keep together
WINDOW = 3.0  # seconds: in any such window one budget sends at most a burst and WINDOW x BUDGET (120), two 240
Capture = pytest.CaptureFixture[str]


@dataclass
class Shared:
    """The folders the workers share."""

    root: Path
    corpus: Path
    index: Path


@dataclass
class Store:
    """Where the workers keep update ids (and, with Redis, the throttle and the reply budget)."""

    redis: RedisServer | None = None

    @property
    def name(self) -> str:
        return "redis" if self.redis else "folder"

    @property
    def env(self) -> dict[str, str]:
        return {"REDIS_URL": self.redis.url} if self.redis else {}


@pytest.fixture(scope="module", params=["folder", "redis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The folder in INDEX_DIR, or a redis-server on loopback (skipped with the reason when not installed)."""
    if request.param == "redis":
        for server in running_redis(tmp_path_factory):
            yield Store(server)
    else:
        yield Store()


@pytest.fixture(scope="module")
def api(store: Store) -> Iterator[BotApiStub]:
    with BotApiStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, article_engine: Engine, store: Store) -> Shared:
    """A copy of the article and its index, per store, so the workers only load it and may change it."""
    root = copy_built(article_engine.config, tmp_path_factory.mktemp("workers"))
    return Shared(root, root / "corpus", root / "index")


@pytest.fixture(scope="module")
def workers(api: BotApiStub, shared: Shared, store: Store) -> Iterator[list[Worker]]:
    """Two workers on one INDEX_DIR, as behind a load balancer; stopped with SIGTERM at the end."""
    started = [
        start_worker(name, api, shared.corpus, shared.index, shared.root, env=store.env)
        for name in ("worker-a", "worker-b")
    ]
    try:
        for worker in started:
            worker.wait_ready()
        yield started
    finally:
        statuses = [w.stop() for w in started]
        for worker in started:
            assert TOKEN not in worker.output(), f"the bot token appears in {worker.name}'s log"
            assert SECRET not in worker.output(), f"the webhook secret appears in {worker.name}'s log"
            if store.redis is not None and store.redis.password:
                assert store.redis.password not in worker.output(), f"the Redis password is in {worker.name}'s log"
        assert statuses == [0] * len(started), f"exit statuses after SIGTERM: {statuses}"


def report(capsys: Capture, line: str) -> None:
    """Print a figure whether or not pytest captures output."""
    with capsys.disabled():
        print("\n" + line, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def replies(api: BotApiStub, chats: range | set[int]) -> list[Call]:
    return [c for c in api.calls_to("sendMessage") if int(c.params["chat_id"]) in chats]


async def ask(client: httpx.AsyncClient, worker: Worker, update_id: int, chat_id: int, text: str) -> None:
    response = await client.post(
        worker.url + WEBHOOK_PATH, json=message_update(update_id, chat_id, text), headers=HEADERS
    )
    assert response.status_code == 200, response.text


async def reply_to(
    api: BotApiStub, client: httpx.AsyncClient, worker: Worker, update_id: int, chat_id: int, text: str
) -> str:
    """Ask one question and wait for its reply."""
    before = len(api.calls_to("sendMessage"))
    await ask(client, worker, update_id, chat_id, text)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [c for c in api.calls_to("sendMessage")[before:] if int(c.params["chat_id"]) == chat_id]
        if found:
            return str(found[0].params["text"])
        await asyncio.sleep(0.02)
    raise AssertionError(f"no reply from {worker.name} to chat {chat_id}")


@pytest.fixture(scope="module")
def expected(workers: list[Worker], api: BotApiStub) -> dict[str, str]:
    """Each question's reply, asked one by one of the first worker."""

    async def collect() -> dict[str, str]:
        async with httpx.AsyncClient(timeout=30) as client:
            return {q: await reply_to(api, client, workers[0], 100 + i, 1, q) for i, q in enumerate(QUESTIONS)}

    answers = asyncio.run(collect())
    assert len(set(answers.values())) == len(QUESTIONS)
    return answers


def why(targets: list[Worker]) -> str:
    """The errors the workers logged, for a failure message: an apology is sent after one of these
    (a Bot API request past python-telegram-bot's 5 s timeout on a starved machine, say)."""
    lines = [
        f"{worker.name}: {line}"
        for worker in targets
        for line in worker.output().splitlines()
        if " ERROR " in line or line.startswith(("telegram.error.", "httpx.", "sqlite3."))
    ]
    return "; the workers logged:\n" + "\n".join(lines[-10:]) if lines else "; the workers logged no error"


async def load(
    api: BotApiStub,
    targets: list[Worker],
    first_update: int,
    first_chat: int,
    expected: dict[str, str],
    during: Callable[[], Awaitable[None]] | None = None,
    redeliver: bool = False,
    shared_budget: bool = False,
) -> str:
    """POST CHATS x PER_CHAT questions at once (spread over ``targets``), check every reply; the figures.

    ``redeliver``: then POST every update again, each to the next worker, as Telegram does when it
    missed a 200 (a copy must not be answered or recorded twice). ``shared_budget``: the workers
    together keep to one bot's budget (a burst of BUDGET, then BUDGET a second) in every WINDOW.
    Expects the answers of the article alone: runs before a test adds a document.
    """
    chats = range(first_chat, first_chat + CHATS)
    plan = [(first_chat + n % CHATS, QUESTIONS[n // CHATS]) for n in range(CHATS * PER_CHAT)]
    per_target: list[list[int]] = [list(range(i, len(plan), len(targets))) for i in range(len(targets))]
    sent_at: dict[tuple[int, str], float] = {}
    accept: list[float] = []
    started = time.monotonic()
    if during is not None:
        await during()

    bodies = [json.dumps(message_update(first_update + n, *plan[n])).encode() for n in range(len(plan))]

    async def send(target: Worker, numbers: list[int]) -> None:
        results = await post_all(
            target.port, WEBHOOK_PATH, [bodies[n] for n in numbers], HEADERS, connections=100 // len(targets)
        )
        for n, (status, sent, answered) in zip(numbers, results, strict=True):
            assert status == 200, f"update {first_update + n} got {status}"
            sent_at[plan[n]] = sent
            accept.append(answered - sent)

    await asyncio.gather(*(send(t, numbers) for t, numbers in zip(targets, per_target, strict=True)))
    if redeliver:
        for target, numbers in zip(targets[1:] + targets[:1], per_target, strict=True):
            results = await post_all(target.port, WEBHOOK_PATH, [bodies[n] for n in numbers], HEADERS)
            assert {status for status, _, _ in results} == {200}
    deadline = time.monotonic() + 120
    while len(replies(api, chats)) < len(plan) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    seconds = time.monotonic() - started
    await asyncio.sleep(1.0)  # a duplicate would arrive right behind the last reply

    to_question = {text: question for question, text in expected.items()}
    got = replies(api, chats)
    wrong = [str(c.params["text"]) for c in got if str(c.params["text"]) not in to_question]
    assert not wrong, f"{len(wrong)} replies are not the expected answers, e.g. {wrong[0][:300]!r}{why(targets)}"
    count = Counter((int(c.params["chat_id"]), to_question[str(c.params["text"])]) for c in got)
    assert not [k for k, n in count.items() if n > 1], "some questions were answered more than once"
    missing = set(sent_at) - set(count)
    assert not missing, f"{len(missing)} of {len(sent_at)} questions were not answered"
    reply_seconds = [c.at - sent_at[(int(c.params["chat_id"]), to_question[str(c.params["text"])])] for c in got]
    busiest = most_in([c.at for c in got], WINDOW)
    if shared_budget:  # a burst and WINDOW at BUDGET a second, with room for jitter; two budgets send them all
        limit = 1.25 * (BUDGET + WINDOW * BUDGET)
        assert len(plan) > limit, "too few updates to tell one budget from two"
        assert busiest <= limit, f"{busiest} replies in {WINDOW:g} s: more than one bot's budget"
    return (
        f"{len(sent_at)} updates from {CHATS} chats to {len(targets)} worker(s): all answered once in {seconds:.1f}s "
        f"= {len(sent_at) / seconds:.0f} replies/s; webhook 200 p50 {pct(accept, 0.5):.0f} ms, "
        f"p99 {pct(accept, 0.99):.0f} ms; time to reply p50 {pct(reply_seconds, 0.5):.0f} ms, "
        f"p99 {pct(reply_seconds, 0.99):.0f} ms; at most {busiest} replies in {WINDOW:g} s"
    )


def most_in(times: list[float], seconds: float) -> int:
    """The most of ``times`` in any window of ``seconds``."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + seconds) - n for n, t in enumerate(ordered)), default=0)


async def test_200_updates_from_50_chats(
    workers: list[Worker], api: BotApiStub, store: Store, expected: dict[str, str], capsys: Capture
) -> None:
    figures = await load(api, workers[:1], first_update=10_000, first_chat=1000, expected=expected)
    report(capsys, f"webhook load, one worker, {store.name}: " + figures)


async def vote_on(api: BotApiStub, workers: list[Worker], answers: list[Call], label: str, first_update: int) -> None:
    """Press ``label`` under each of ``answers`` (their readers press), spread over the workers; every
    press is then delivered again to the other worker. Returns once each press is acknowledged."""
    presses = []
    for n, answer in enumerate(answers):
        (data,) = [
            b["callback_data"] for b in answer.params["reply_markup"]["inline_keyboard"][0] if b["text"] == label
        ]
        chat = int(answer.params["chat_id"])
        press = {**callback_update(data, chat_id=chat, user_id=chat), "update_id": first_update + n}
        presses.append(json.dumps(press).encode())
    acknowledged = len(api.calls_to("answerCallbackQuery"))
    halves = [presses[::2], presses[1::2]]
    for targets in (workers, workers[::-1]):  # the second round is all redeliveries
        for worker, bodies in zip(targets, halves, strict=True):
            results = await post_all(worker.port, WEBHOOK_PATH, bodies, HEADERS)
            assert {status for status, _, _ in results} == {200}
    await api.async_wait_for("answerCallbackQuery", acknowledged + len(presses), timeout=120)


async def stored(found: Callable[[], object], wanted: object, timeout: float = 30.0) -> None:
    """Wait until ``found()`` is ``wanted`` or ``timeout`` passes: a vote is acknowledged once stored
    or after a short wait, so a write may still be queued behind the database when it is (the test's
    assertion says what was missing)."""
    deadline = time.monotonic() + timeout
    while found() != wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


async def test_200_questions_with_votes_leave_200_rows_and_the_votes_under_redelivery(
    workers: list[Worker], api: BotApiStub, shared: Shared, store: Store, expected: dict[str, str], capsys: Capture
) -> None:
    feedback = Feedback(shared.index / "feedback.sqlite3")  # where the workers keep it by default
    before = {table: feedback.count(table) for table in ("questions", "votes")}
    chats = range(6000, 6000 + CHATS)
    figures = await load(
        api, workers, 60_000, chats[0], expected, redeliver=True, shared_budget=store.redis is not None
    )
    answers = replies(api, chats)

    def votes() -> dict[int, int]:
        return dict(feedback.rows("SELECT vote, count(*) FROM votes WHERE at >= ? GROUP BY vote", time.time() - 600))

    await vote_on(api, workers, answers, "👍", first_update=70_000)
    changed = [a for a in answers if int(a.params["chat_id"]) % 4 == 0]  # a quarter of the readers change their mind
    await stored(lambda: feedback.count("votes") - before["votes"], len(answers))  # their first votes, then
    await vote_on(api, workers, changed, "👎", first_update=80_000)
    await stored(votes, {1: CHATS * PER_CHAT - len(changed), -1: len(changed)})
    await asyncio.sleep(1.0)  # a row is written just after its answer or acknowledgement; a duplicate would be too

    added = {table: feedback.count(table) - before[table] for table in before}
    assert added == {"questions": CHATS * PER_CHAT, "votes": CHATS * PER_CHAT}
    assert votes() == {1: CHATS * PER_CHAT - len(changed), -1: len(changed)}
    assert not api.calls_to("answerCallbackQuery")[-1].params.get("show_alert")
    report(
        capsys,
        f"feedback, {store.name}: {len(answers)} questions, {len(answers)} votes and {len(changed)} changed votes, "
        f"each delivered twice: {figures}",
    )


async def test_200_updates_while_an_admin_reindexes(
    workers: list[Worker], api: BotApiStub, shared: Shared, store: Store, expected: dict[str, str], capsys: Capture
) -> None:
    before = (shared.index / "CURRENT").read_text().strip()
    edits = len(api.calls_to("editMessageText"))

    async def reindex() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            await ask(client, workers[0], 30_000, ADMIN, "/reindex")

    figures = await load(api, workers, 20_000, 2000, expected, during=reindex, shared_budget=store.redis is not None)
    (summary, *_) = (await api.async_wait_for("editMessageText", edits + 1, timeout=60))[edits:]
    assert "rebuilt" in str(summary.params["text"]) or "opgebouwd" in str(summary.params["text"])
    assert (shared.index / "CURRENT").read_text().strip() != before
    report(capsys, f"webhook load during /reindex, two workers, {store.name}: " + figures)


@pytest.mark.parametrize("store", ["redis"], indirect=True)
async def test_with_redis_stopped_every_update_is_answered_and_redis_is_used_again_when_back(
    workers: list[Worker], api: BotApiStub, store: Store, expected: dict[str, str], capsys: Capture
) -> None:
    """Fail open: while Redis is down each worker answers with what it knows itself (no update lost;
    a copy redelivered to the other worker would be answered twice), and warns once."""
    assert store.redis is not None
    store.redis.stop()
    try:
        figures = await load(api, workers, first_update=90_000, first_chat=9000, expected=expected)
        for worker in workers:
            assert worker.output().count("is not answering") == 1, f"{worker.name} did not warn once"
    finally:
        store.redis.start()  # empty: the update ids of the last hour are forgotten
    await asyncio.sleep(RETRY_SECONDS + 0.5)  # the next update on each worker tries Redis again
    chat = 9500
    update = message_update(95_000, chat, QUESTIONS[0])
    async with httpx.AsyncClient(timeout=30) as client:
        results = [await client.post(w.url + WEBHOOK_PATH, json=update, headers=HEADERS) for w in workers]
        assert [r.text for r in results] == ["ok\n", "duplicate\n"]
        await reply_to(api, client, workers[1], 95_001, chat + 1, QUESTIONS[1])  # replies arrive in order
    await asyncio.sleep(0.5)
    assert len(replies(api, {chat})) == 1
    for worker in workers:
        assert worker.output().count("answers again") == 1, f"{worker.name} did not log Redis coming back"
    report(capsys, "Redis stopped, two workers on their own budgets: " + figures)


async def test_both_workers_answer_from_a_new_index_after_reindex_on_one(
    workers: list[Worker], api: BotApiStub, shared: Shared, capsys: Capture
) -> None:
    a, b = workers
    async with httpx.AsyncClient(timeout=30) as client:
        old = (await client.get(b.url + "/readyz")).json()["index"]
        assert "412 meter" not in await reply_to(api, client, b, 40_000, 3000, NEW_QUESTION)
        (shared.corpus / "zalmbrug.txt").write_text(NEW_DOCUMENT, "utf-8")
        edits = len(api.calls_to("editMessageText"))
        await ask(client, a, 40_001, ADMIN, "/reindex")
        await api.async_wait_for("editMessageText", edits + 1, timeout=60)
        published = time.monotonic()
        new = (shared.index / "CURRENT").read_text().strip()
        assert new != old

        # The idle worker switches by itself (its periodic check), without a question to wake it.
        while (await client.get(b.url + "/readyz")).json()["index"] != new:
            assert time.monotonic() - published < 10, "worker-b still serves the old index"
            await asyncio.sleep(0.05)
        switched = time.monotonic() - published
        for n, worker in enumerate((a, b)):
            answer = await reply_to(api, client, worker, 40_010 + n, 3001 + n, NEW_QUESTION)
            assert "412 meter" in answer, f"{worker.name} answered from the old index: {answer[:200]!r}"
        metrics = (await client.get(a.url + "/metrics")).text
        assert 'bot_reindexes_total{result="ok"} 2.0' in metrics
        assert 'bot_questions_total{outcome="answered"}' in metrics and "bot_answer_seconds_bucket" in metrics
    report(capsys, f"two workers: worker-b served the index published by worker-a {switched:.2f}s later")


async def test_a_redelivery_to_the_other_worker_is_not_answered_again(workers: list[Worker], api: BotApiStub) -> None:
    chat = 4000
    update = message_update(45_000, chat, QUESTIONS[0])
    async with httpx.AsyncClient(timeout=30) as client:
        results = await asyncio.gather(
            *(client.post(w.url + WEBHOOK_PATH, json=update, headers=HEADERS) for w in workers * 3)
        )
        assert sorted(r.text for r in results) == ["duplicate\n"] * 5 + ["ok\n"]
        await reply_to(api, client, workers[1], 45_001, chat + 1, QUESTIONS[1])  # replies arrive in order
    await asyncio.sleep(0.5)
    assert len(replies(api, {chat})) == 1


async def test_sigterm_finishes_the_updates_in_flight(workers: list[Worker], api: BotApiStub) -> None:
    b = workers[1]
    api.fail(Fault("sendMessage", status=200, delay=1.0, times=20))  # replies still on their way at SIGTERM
    chats = range(5000, 5020)
    async with httpx.AsyncClient(timeout=30) as client:
        await asyncio.gather(*(ask(client, b, 50_000 + i, chat, QUESTIONS[i % 5]) for i, chat in enumerate(chats)))
    status = await asyncio.to_thread(b.stop)
    assert status == 0, b.output()[-3000:]
    got = replies(api, set(chats))
    assert sorted(int(c.params["chat_id"]) for c in got) == list(chats)
    assert "error while handling" not in b.output()
    assert "stopped" in b.output()
