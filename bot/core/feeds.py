"""News feeds polled into the corpus: each new RSS/Atom entry's page added as an article.

What was seen is kept in ``INDEX_DIR/feeds.json`` (written atomically): per feed its ETag and
Last-Modified, sent back so an unchanged feed costs a 304; per entry the document it became
and its ``updated`` (or a hash of its content), so an entry is fetched again only when it
changed, and then replaces its document. A feed or page that fails is logged and tried again at
the next poll: a feed's validators are only stored once every entry of it was taken in.

Several workers share one corpus folder, so only one polls at a time: a poll holds a
non-blocking ``fcntl.flock`` on ``INDEX_DIR/feeds.lock`` and is skipped while another process
holds it, and also when another worker polled less than FEED_MINUTES ago (``polled_at``).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.articles import add_page
from bot.core.corpus import Refused
from bot.core.fetch import Fetcher, loggable
from bot.core.texts import text

logger = logging.getLogger(__name__)

STATE_FILE = "feeds.json"
LOCK_FILE = "feeds.lock"


@dataclass
class PollReport:
    """What one poll did: documents added and replaced (file names), and the feeds and pages that failed."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)


@contextlib.contextmanager
def poll_lock(index_dir: Path) -> Iterator[bool]:
    """Hold ``index_dir/feeds.lock`` for the block; yields False (nothing held) when another poll has it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_state(path: Path) -> dict[str, Any]:
    """The stored feed state; empty when there is none yet or it cannot be read (then all is seen anew)."""
    try:
        found = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        found = {}
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s, starting afresh: %s", path, exc)
        found = {}
    if not isinstance(found, dict):
        found = {}
    found.setdefault("feeds", {})
    found.setdefault("entries", {})
    return found


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the state atomically: a reader sees the old file or the new one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".feeds-", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(state, out, ensure_ascii=False, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def entry_version(entry: Any) -> str:
    """What tells that an entry changed: its ``updated`` date, else a hash of its title and content."""
    updated = dict.get(entry, "updated") or dict.get(entry, "published")  # no feedparser fallback warning
    if updated:
        return str(updated)
    parts = [entry.get("title", ""), entry.get("summary", "")]
    parts += [c.get("value", "") for c in entry.get("content", [])]
    return "sha256:" + hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:32]


async def poll(
    feeds: Sequence[str],
    corpus_dir: Path,
    index_dir: Path,
    fetcher: Fetcher,
    *,
    every: float = 0.0,
    now: Callable[[], float] = time.time,
) -> PollReport | None:
    """Poll every feed once and add what is new; None when skipped (another process is polling, or
    one polled less than ``every`` seconds ago by ``now``)."""
    with poll_lock(index_dir) as held:
        if not held:
            logger.info("another worker is polling the feeds; skipped")
            return None
        path = index_dir / STATE_FILE
        state = load_state(path)
        if every and now() - float(state.get("polled_at", 0)) < every:
            return None
        report = PollReport()
        for feed in feeds:
            await _poll_feed(feed, corpus_dir, fetcher, state, report, lambda: save_state(path, state))
        state["polled_at"] = now()
        save_state(path, state)
    if report.changed or report.failed:
        logger.info(
            "feeds: %d added, %d replaced, %d failed", len(report.added), len(report.replaced), len(report.failed)
        )
    return report


async def _poll_feed(
    feed: str,
    corpus_dir: Path,
    fetcher: Fetcher,
    state: dict[str, Any],
    report: PollReport,
    save: Callable[[], None],
) -> None:
    import feedparser  # only where feeds are read

    known = state["feeds"].get(feed, {})
    try:
        page = await fetcher.feed(feed, known.get("etag"), known.get("modified"))
    except Refused as exc:
        _failed(report, feed, exc)
        return
    if page.status == 304:
        return
    parsed = await asyncio.to_thread(
        feedparser.parse, page.content, response_headers={"content-location": page.url, "content-type": "text/xml"}
    )
    if parsed.get("bozo") and not parsed.entries:
        _failed(report, feed, Refused("fetch_not_feed", type=page.content_type))
        return
    complete = True
    for entry in parsed.entries:
        link = entry.get("link")
        key = str(entry.get("id") or link or "")
        if not key or not link:
            continue
        version, seen = entry_version(entry), state["entries"].get(key)
        if seen is not None and seen.get("updated") == version:
            continue
        try:
            article = await fetcher.page(link)
            stored = await asyncio.to_thread(
                add_page, corpus_dir, article.content, article.url, name=seen.get("document") if seen else None
            )
        except Refused as exc:
            _failed(report, link, exc)
            complete = False
            continue
        (report.replaced if stored.replaced else report.added).append(stored.name)
        state["entries"][key] = {"document": stored.name, "updated": version, "feed": feed}
        save()  # an entry taken in is never fetched again, even when the poll is cut short
    if complete:  # else the next poll must see the entries again, not a 304
        state["feeds"][feed] = {"etag": page.etag, "modified": page.last_modified}


def _failed(report: PollReport, url: str, exc: Refused) -> None:
    report.failed.append(url)
    reason = text("en", exc.reason, **exc.values)
    logger.warning("feeds: %s not taken in, retried at the next poll: %s", loggable(url), reason)
