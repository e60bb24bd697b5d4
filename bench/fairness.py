"""Fairness between readers: one reader's answer while three others send the longest questions allowed.

The real bot (in this process, long-polling the stub Bot API on loopback) answers over the
article with the default model. Three readers each send a question of ``MAX_QUESTION_CHARS``
characters, about 40 times a short question's encoding, every ``LONG_EVERY`` seconds: far
faster than their throttle lets through, so each gets what the throttle allows. A fourth reader
asks a short question every ``PROBE_EVERY`` seconds; its answer latency, from the update on the
stub to the bot's sendMessage, is the figure, against the same reader asking with nobody else
about (the baseline, measured in the same run).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Row, Section, percentile
from index.encoders import Encoder

MAX_QUESTION_CHARS = 1000
LONG_READERS = (5001, 5002, 5003)
PROBE_READER = 5100
LONG_EVERY = 0.5
PROBE_EVERY = 2.5  # under the reader's own throttle (5 questions in 10 s)
SECONDS = 30.0
QUICK_SECONDS, QUICK_PROBE_EVERY = 1.5, 1.0  # two probes alone, two among the crowd
TARGET_SECONDS = 2.0
PROBE_QUESTION = "Wat moet Armenië doen als Poetin op bezoek komt?"


def _long_question(article: str, reader: int) -> str:
    """A question of ``MAX_QUESTION_CHARS`` characters from the article's words, one per reader."""
    words = article.split()
    text = " ".join(words[reader % 50 :])
    return (text[: MAX_QUESTION_CHARS - 1].rsplit(" ", 1)[0] + "?")[:MAX_QUESTION_CHARS]


async def _probe_latencies(
    engine: Any, root: Path, seconds: float, *, crowded: bool, probe_every: float = PROBE_EVERY
) -> tuple[list[float], int, int]:
    """Seconds from each of the probe reader's questions, one every ``probe_every``, to its answer,
    with or without the crowd; the long questions sent, and how many of them were answered with
    passages."""
    from bench.polling import polling_bot, private_message
    from bench.quality.data import ARTICLE

    article = ARTICLE.read_text("utf-8")
    settings = {
        "corpus_dir": engine.config.corpus_dir,
        "index_dir": root / ("crowded" if crowded else "alone"),
        "max_question_chars": MAX_QUESTION_CHARS,
    }
    async with polling_bot(engine, **settings) as api:
        sent: list[float] = []
        long_sent = 0
        started = time.perf_counter()
        next_long = next_probe = started
        while time.perf_counter() - started < seconds:
            now = time.perf_counter()
            if crowded and now >= next_long:
                for reader in LONG_READERS:
                    api.push_update(private_message(reader, text=_long_question(article, reader)))
                    long_sent += 1
                next_long += LONG_EVERY
            if now >= next_probe:
                api.push_update(private_message(PROBE_READER, text=PROBE_QUESTION))
                sent.append(time.perf_counter())
                next_probe += probe_every
            await asyncio.sleep(0.01)
        deadline = time.perf_counter() + 60
        while len(_answers(api)) < len(sent) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        answered = [call.at for call in _answers(api)]
        long_answered = sum(
            "<i>" in str(c.params.get("text", ""))
            for c in api.calls_to("sendMessage")
            if c.params.get("chat_id") in LONG_READERS
        )
    return [at - at_sent for at_sent, at in zip(sent, answered, strict=False)], long_sent, long_answered


def _answers(api: Any) -> list[Any]:
    return [c for c in api.calls_to("sendMessage") if c.params.get("chat_id") == PROBE_READER]


def run(encoder: Encoder, *, quick: bool = False) -> Section:
    import shutil

    from bench.quality.data import ARTICLE
    from index import Engine, EngineConfig

    section = Section("fairness")
    seconds, probe_every = (QUICK_SECONDS, QUICK_PROBE_EVERY) if quick else (SECONDS, PROBE_EVERY)
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as tmp:
        root = Path(tmp)
        (root / "corpus").mkdir()
        shutil.copy(ARTICLE, root / "corpus" / ARTICLE.name)
        engine = Engine(EngineConfig(corpus_dir=root / "corpus", index_dir=root / "index", cache_size=0), encoder)
        engine.load()
        alone, _, _ = asyncio.run(_probe_latencies(engine, root, seconds, crowded=False, probe_every=probe_every))
        crowded, long_sent, long_answered = asyncio.run(
            _probe_latencies(engine, root, seconds, crowded=True, probe_every=probe_every)
        )
    baseline = percentile(alone, 50) if alone else None
    for name, values in (("with three readers sending 1,000-character questions", crowded), ("alone", alone)):
        if not values:
            continue
        p99 = percentile(values, 99)
        row_baseline = baseline if values is crowded else None
        section.rows.append(
            Row(
                "Fairness",
                f"a fourth reader's answer, {name}",
                "s",
                percentile(values, 50),
                p99,
                "the same reader alone" if row_baseline is not None else "",
                row_baseline,
                f"<= {TARGET_SECONDS:g} s" if values is crowded else "",
                p99 <= TARGET_SECONDS if values is crowded else None,
                len(values),
                f"{seconds:.0f} s; the three send one every {LONG_EVERY:g} s each ({long_sent} in all), "
                f"{long_answered} answered with passages, the rest throttled (default settings)"
                if values is crowded
                else "",
            )
        )
    section.series = {"alone": alone, "crowded": crowded}
    return section
