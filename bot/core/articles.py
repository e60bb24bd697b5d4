"""News articles into the corpus: a web page's article stored as a readable ``.txt`` document.

A page's article (``index.pages.read_page``) is written with ``Article.text()`` as
``<slug>.txt``, the slug made from its title (or its URL's path). A document that already holds
the same ``url:`` is replaced in place, so an article added twice, or updated in its feed, stays
one document. Writes are atomic, and every check comes before the write: on any failure the
corpus is as it was. Synchronous; handlers call it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from bot.core.corpus import Refused, check_name, save_document, write_document
from index.documents import PAGE_SUFFIXES, TEXT_SUFFIXES, corpus_files, read_header
from index.pages import Article, PageError, read_page

logger = logging.getLogger(__name__)

MAX_SLUG_CHARS = 60
HEADER_BYTES = 4096  # where a document's header lines are looked for
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Stored:
    """A document added to the corpus: its file name, title, date and whether it replaced one."""

    name: str
    title: str
    date: str | None
    replaced: bool


def slug(title: str, url: str | None = None) -> str:
    """A file stem from ``title`` (accents folded, lower case, ``-`` between words), else from the
    last part of ``url``'s path, else ``article``."""
    for source in (title, PurePosixPath(unquote(urlsplit(url or "").path)).stem):
        folded = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode("ascii")
        found = _NOT_SLUG.sub("-", folded.lower()).strip("-")[:MAX_SLUG_CHARS].rstrip("-")
        if found:
            return found
    return "article"


def same_url(a: str | None, b: str | None) -> bool:
    """Whether two article URLs are the same page (scheme, host case and a trailing ``/`` aside)."""
    if not a or not b:
        return False

    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        return (parts.netloc.lower(), parts.path.rstrip("/") or "/", parts.query)

    return key(a) == key(b)


def find_by_url(folder: Path, url: str | None) -> str | None:
    """The name of the text document in ``folder`` whose ``url:`` line is ``url``, if any."""
    if not url:
        return None
    for path in corpus_files(folder):
        if path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        try:
            with path.open("rb") as file:  # the header lines are at the start: not the whole archive read
                header = read_header(file.read(HEADER_BYTES).decode("utf-8", errors="replace"))
        except OSError:
            continue
        if same_url(header.url, url):
            return path.name
    return None


def store_article(folder: Path, article: Article, *, name: str | None = None) -> Stored:
    """Write ``article`` into ``folder``: over the document with its URL, else as ``name``, else as a
    new ``<slug>.txt`` (``-2``, ``-3``… when that name holds another article)."""
    chosen = find_by_url(folder, article.url) or name
    if chosen is None:
        stem = slug(article.title, article.url)
        chosen = f"{stem}.txt"
        number = 2
        while (folder / chosen).exists():
            chosen = f"{stem}-{number}.txt"
            number += 1
    chosen = check_name(chosen)
    replaced = write_document(folder, chosen, article.text().encode("utf-8"))
    return Stored(name=chosen, title=article.title, date=article.date, replaced=replaced)


def read_article(html: bytes, url: str | None) -> Article:
    """The article in a page; Refused(``page_empty``) when it has none."""
    try:
        return read_page(html, url)
    except PageError:
        raise Refused("page_empty") from None


def add_page(folder: Path, html: bytes, url: str | None, *, name: str | None = None) -> Stored:
    """Read the article of a page fetched from ``url`` (or uploaded) and store it."""
    return store_article(folder, read_article(html, url), name=name)


def add_file(folder: Path, name: str, content: bytes, limit: int) -> Stored:
    """An admin's file: a web page (``.html``/``.htm``, any encoding) is stored as the readable
    ``<stem>.txt`` of its article; a ``.txt``/``.md`` document as it is, after the upload checks."""
    name = check_name(name)
    if len(content) > limit:
        raise Refused("refuse_size", limit=limit)
    if name.lower().endswith(PAGE_SUFFIXES):
        return add_page(folder, content, None, name=check_name(f"{Path(name).stem}.txt"))
    replaced = save_document(folder, name, content, limit)
    header = read_header(content.decode("utf-8"))
    return Stored(name=name, title=header.title or Path(name).stem, date=header.date, replaced=replaced)
