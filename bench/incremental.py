"""Reindexing after a small change: an unchanged corpus, and one new article, at 1,000 and 10,000 paragraphs.

For each size a base index is built first, as untimed setup: from a corpus of paragraphs
repeated from a pool of ``POOL`` distinct ones (``synth.write_pooled_corpus``), through an
encoder that embeds each distinct text once and remembers it (``bench.encoding.Memoized``),
so 10,000 paragraphs take the encoding time of ``POOL`` rather than ~45 minutes. Its vectors
are the default model's own, so the base is the index the model itself would build of that
corpus. The timed steps use a new engine with the real encoder, serving that base:

- a reindex of the unchanged corpus: seconds, and the texts it encoded (none is expected);
- one new 8-paragraph article: seconds from writing its file to the first answer from it,
  through ``engine.reindex()`` then ``engine.ask()``, against the encode floor of exactly the
  texts that reindex encoded (``bench.encoding.replay``);
- another new article sent by an admin through the bot: seconds from the upload's update on the
  stub Bot API (``tests.support.botapi``, on loopback) to the bot's answer from it, the download, the
  save, the rebuild's summary and the question's answer included.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench import synth
from bench.common import Row, Section
from bench.encoding import Memoized, Recording, replay
from index.encoders import Encoder

if TYPE_CHECKING:
    from index import Engine, EngineConfig

SIZES = (1_000, 10_000)
QUICK_SIZES = (20,)
POOL = 120  # distinct paragraphs in the base corpus
TARGET_ADD_SECONDS = 15.0
ARTICLE_NAME = "zz-nieuwe-brug-2031-05.txt"  # sorted last, as a new file usually is not
ARTICLE = (
    "title: De nieuwe Scheldebrug\n"
    "De nieuwe brug over de Schelde bij Antwerpen gaat in mei 2031 open voor fietsers en voetgangers. "
    "De bouw kostte 412 miljoen euro.\n\n"
)
QUESTION = "Wanneer gaat de nieuwe brug over de Schelde bij Antwerpen open?"
UPLOAD_NAME = "zz-nieuw-zwembad-2031-06.txt"
UPLOAD = (
    "title: Nieuw zwembad in Zwolle\n"
    "Het nieuwe zwembad in Zwolle heeft een wedstrijdbad van vijftig meter en opent op 2 juni 2031. "
    "De gemeente betaalde er 38 miljoen euro voor.\n\n"
)
UPLOAD_QUESTION = "Hoe lang is het wedstrijdbad van het nieuwe zwembad in Zwolle?"
ADMIN = 777


def _article() -> str:
    """The new article: a paragraph with the fact asked about, then seven synthetic ones."""
    return ARTICLE + "\n\n".join(synth.paragraphs(7, seed=2031)) + "\n"


def run(encoder: Encoder, *, quick: bool = False) -> Section:
    from index import Engine, EngineConfig

    section = Section("incremental")
    memo = Memoized(encoder)
    points = []
    for size in QUICK_SIZES if quick else SIZES:
        with tempfile.TemporaryDirectory(prefix="bench-incremental-") as tmp:
            config = EngineConfig(corpus_dir=Path(tmp) / "corpus", index_dir=Path(tmp) / "index", model=encoder.name)
            synth.write_pooled_corpus(config.corpus_dir, size, POOL)
            started = time.perf_counter()
            Engine(config, memo).reindex()  # untimed setup: the base index, through the memo
            setup = time.perf_counter() - started
            recording = Recording(encoder)
            engine = Engine(config, recording)
            engine.load(build=False)

            started = time.perf_counter()
            unchanged = engine.reindex()
            unchanged_seconds = time.perf_counter() - started
            unchanged_texts = recording.texts
            recording.calls.clear()

            started = time.perf_counter()
            (config.corpus_dir / ARTICLE_NAME).write_text(_article(), "utf-8")
            added = engine.reindex()
            answer = engine.ask(QUESTION)
            add_seconds = time.perf_counter() - started
            calls = list(recording.calls)
            floor = replay(encoder, calls)
            found = answer.answered and answer.passages[0].source == ARTICLE_NAME
            bot_seconds, bot_found = asyncio.run(_upload_through_bot(engine, config))
        sentences = f"{unchanged.sentences:,} sentences"
        base = f"base built in {setup:.0f} s as untimed setup from {POOL} distinct paragraphs, memoized"
        section.rows.append(
            Row(
                "Incremental reindex",
                f"unchanged corpus, {size:,} paragraphs ({sentences})",
                "s",
                unchanged_seconds,
                samples=1,
                target="encodes nothing",
                met=unchanged_texts == 0 and unchanged.embedded == 0,
                note=f"{unchanged_texts} texts encoded, {unchanged.reused} documents reused; {base}",
            )
        )
        section.rows.append(
            Row(
                "Incremental reindex",
                f"one new 8-paragraph article on {size:,} paragraphs: file written to first answer from it",
                "s",
                add_seconds,
                None,
                "encode floor",
                floor,
                f"<= {TARGET_ADD_SECONDS:g} s",
                found and add_seconds <= TARGET_ADD_SECONDS,
                1,
                f"reindex {added.seconds:.1f} s + ask; {sum(len(t) for _, t in calls)} texts encoded, "
                f"{added.embedded} document embedded, {added.reused} reused; "
                f"answered from the new article: {'yes' if found else 'no'}",
            )
        )
        section.rows.append(
            Row(
                "Incremental reindex",
                f"another new article on {size:,} paragraphs, sent by an admin: upload to the bot's answer from it",
                "s",
                bot_seconds,
                samples=1,
                target=f"<= {TARGET_ADD_SECONDS:g} s",
                met=bot_found and bot_seconds <= TARGET_ADD_SECONDS,
                note="through the stub Bot API on loopback: download, save, rebuild, summary, question, answer; "
                f"answered from the new article: {'yes' if bot_found else 'no'}",
            )
        )
        points.append(
            {
                "bot_seconds": bot_seconds,
                "size": size,
                "unchanged_seconds": unchanged_seconds,
                "unchanged_texts": unchanged_texts,
                "add_seconds": add_seconds,
                "add_reindex_seconds": added.seconds,
                "add_floor_seconds": floor,
                "add_texts": sum(len(t) for _, t in calls),
                "setup_seconds": setup,
            }
        )
    section.series = {"points": points}
    return section


async def _upload_through_bot(engine: Engine, config: EngineConfig) -> tuple[float, bool]:
    """Seconds from an admin's upload of ``UPLOAD`` to the bot's answer from it, and whether it was."""
    from bench.polling import polling_bot, private_message

    content = UPLOAD.encode("utf-8") + "\n\n".join(synth.paragraphs(7, seed=2032)).encode("utf-8") + b"\n"
    settings = {"admin_user_ids": frozenset({ADMIN}), "corpus_dir": config.corpus_dir, "index_dir": config.index_dir}
    async with polling_bot(engine, **settings) as api:
        api.add_file("upload-1", content)
        document = {"file_id": "upload-1", "file_unique_id": "upload-1", "file_name": UPLOAD_NAME}
        started = time.perf_counter()
        api.push_update(private_message(ADMIN, document={**document, "file_size": len(content)}))
        await api.async_wait_for("editMessageText", timeout=120)  # the rebuild's summary
        api.push_update(private_message(ADMIN, text=UPLOAD_QUESTION))
        (answer,) = (await api.async_wait_for("sendMessage", 2, timeout=60))[1:]
        seconds = time.perf_counter() - started
    return seconds, "Nieuw zwembad in Zwolle" in str(answer.params.get("text", ""))
