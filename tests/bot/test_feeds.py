"""Feeds polled from a loopback site: new entries become documents once, updates replace them,
a feed that is down loses nothing, the ETag is sent back, and one worker polls at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.feeds import STATE_FILE, poll, poll_lock
from bot.core.fetch import Fetcher
from tests.support.web import Route, Site, serve

FETCHER = Fetcher(allow_private=True, timeout=5)
WORDS = "De gemeenteraad besprak het voorstel uitgebreid en stemde daarna met een ruime meerderheid in. "


def page(number: int, extra: str = "") -> bytes:
    return (
        f'<html lang="nl"><head><title>Bericht {number}</title></head><body><nav>Menu Home Sport</nav>'
        f"<article><h1>Bericht {number}</h1><p>Bericht {number}: {WORDS * 3}{extra}</p></article></body></html>"
    ).encode()


def rss(site: Site, numbers: list[int], updated: dict[int, str] | None = None) -> bytes:
    items = "".join(
        f"<item><title>Bericht {n}</title><link>{site.url(f'/nieuws/{n}')}</link><guid>bericht-{n}</guid>"
        f"<pubDate>{(updated or {}).get(n, 'Mon, 18 Mar 2024 08:00:00 GMT')}</pubDate></item>"
        for n in numbers
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Nieuws</title>{items}</channel></rss>'.encode()


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as running:
        for n in range(1, 5):
            running.routes[f"/nieuws/{n}"] = Route(page(n))
        yield running


def feed(site: Site, numbers: list[int], etag: str, updated: dict[int, str] | None = None) -> None:
    site.routes["/feed.xml"] = Route(rss(site, numbers, updated), "application/rss+xml", etag=etag)


def documents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in sorted(folder.glob("*.txt"))}


async def test_entries_become_documents_once_and_updates_replace_them(site: Site, tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    feeds = [site.url("/feed.xml")]
    feed(site, [1, 2, 3], etag='"v1"')
    report = await poll(feeds, corpus, index, FETCHER)
    assert report is not None and sorted(report.added) == ["bericht-1.txt", "bericht-2.txt", "bericht-3.txt"]
    assert all("Menu Home" not in text and "url: http://127.0.0.1" in text for text in documents(corpus).values())

    # Unchanged: the ETag goes back, the server answers 304, no page is fetched again.
    report = await poll(feeds, corpus, index, FETCHER)
    assert report is not None and not report.changed
    assert site.requests_to("/feed.xml")[-1].headers.get("if-none-match") == '"v1"'
    assert [len(site.requests_to(f"/nieuws/{n}")) for n in (1, 2, 3)] == [1, 1, 1]

    # A fourth entry and an updated second one: the fourth is added once, the second replaced in place.
    feed(site, [1, 2, 3, 4], etag='"v2"', updated={2: "Tue, 19 Mar 2024 09:00:00 GMT"})
    site.routes["/nieuws/2"] = Route(page(2, "Later is het besluit weer ingetrokken."))
    report = await poll(feeds, corpus, index, FETCHER)
    assert report is not None and report.added == ["bericht-4.txt"] and report.replaced == ["bericht-2.txt"]
    assert "weer ingetrokken" in documents(corpus)["bericht-2.txt"]
    assert len(documents(corpus)) == 4
    assert [len(site.requests_to(f"/nieuws/{n}")) for n in (1, 2, 3, 4)] == [1, 2, 1, 1]
    state = json.loads((index / STATE_FILE).read_text("utf-8"))
    assert state["feeds"][feeds[0]]["etag"] == '"v2"'
    assert sorted(entry["document"] for entry in state["entries"].values()) == [f"bericht-{n}.txt" for n in range(1, 5)]


async def test_while_the_feed_or_a_page_is_down_nothing_is_lost(site: Site, tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    feeds = [site.url("/feed.xml")]
    feed(site, [1, 2], etag='"v1"')
    site.down = True
    report = await poll(feeds, corpus, index, FETCHER)
    assert report is not None and report.failed == feeds and not corpus.exists()

    site.down = False
    del site.routes["/nieuws/2"]  # its page is missing for now
    report = await poll(feeds, corpus, index, FETCHER)
    assert report is not None and report.added == ["bericht-1.txt"] and report.failed == [site.url("/nieuws/2")]
    # The feed's ETag is not kept while an entry failed, so the next poll sees the entries again.
    assert "if-none-match" not in site.requests_to("/feed.xml")[-1].headers
    site.routes["/nieuws/2"] = Route(page(2))
    report = await poll(feeds, corpus, index, FETCHER)
    assert report is not None and report.added == ["bericht-2.txt"] and not report.failed
    assert len(site.requests_to("/nieuws/1")) == 1  # taken in once, not fetched again
    assert sorted(documents(corpus)) == ["bericht-1.txt", "bericht-2.txt"]


async def test_only_one_worker_polls_at_a_time_and_not_again_before_its_time(site: Site, tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    feeds = [site.url("/feed.xml")]
    feed(site, [1], etag='"v1"')
    with poll_lock(index) as held:  # another worker's poll, holding the lock file
        assert held
        assert await poll(feeds, corpus, index, FETCHER) is None
    assert site.requests_to("/feed.xml") == []
    clock = [1000.0]
    assert await poll(feeds, corpus, index, FETCHER, every=900, now=lambda: clock[0]) is not None
    clock[0] += 600  # ten minutes later another worker wakes: the feeds were polled 10 minutes ago
    assert await poll(feeds, corpus, index, FETCHER, every=900, now=lambda: clock[0]) is None
    clock[0] += 600
    assert await poll(feeds, corpus, index, FETCHER, every=900, now=lambda: clock[0]) is not None
    assert len(site.requests_to("/feed.xml")) == 2
