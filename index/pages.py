"""Web pages as articles: the main text and metadata of an HTML page, and the text file that keeps them.

trafilatura finds the article in a page (its paragraphs, without the menu, cookie banner,
share links, comments and related-article lists around it) and reads the title, publication
date and canonical URL from the page's ``<meta>`` tags and JSON-LD. The page's language comes
from its ``<html lang>`` attribute. ``Article.text`` writes what was found as a corpus text file
with header lines, which ``index.documents.parse_document`` reads back to the same document:
an added page is stored once, readable and editable, and a rebuild never fetches it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from index.errors import EngineError

# Fewer words than this is a page's menu or teaser (trafilatura then falls back to whatever text
# the page has), not an article: the shortest news item is a few sentences.
MIN_ARTICLE_WORDS = 20
# How trafilatura reads a page: the article with its metadata, without comments, tables or
# images, precision before recall (a menu line in an answer is worse than a lost sentence), and
# every paragraph kept even when it repeats (a quote may stand twice in an article).
EXTRACTION: dict[str, Any] = {
    "with_metadata": True,
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "favor_precision": True,
    "deduplicate": False,
}
_SPACE = re.compile(r"\s+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}")
# Header values are one line each: a title or URL with a line break in it would end the header.
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]+")


class PageError(EngineError, ValueError):
    """An HTML page holds no article text that could be read."""


@dataclass(frozen=True)
class Article:
    """What a page says: its headline, date (``YYYY-MM-DD``), URL, language (``nl``, ``en``) and paragraphs."""

    title: str
    date: str | None
    url: str | None
    language: str | None
    paragraphs: tuple[str, ...]

    def text(self) -> str:
        """The article as a corpus text file: ``title:``, ``date:`` and ``url:`` lines, a blank
        line, then the paragraphs separated by blank lines."""
        header = [f"title: {self.title}"]
        if self.date:
            header.append(f"date: {self.date}")
        if self.url:
            header.append(f"url: {self.url}")
        return "\n".join(header) + "\n\n" + "\n\n".join(self.paragraphs) + "\n"


def read_page(html: bytes | str, url: str | None = None) -> Article:
    """The article in ``html`` (fetched from ``url``, when known); PageError when it has no text.

    The page's own canonical URL wins over ``url``; a relative or non-web one is ignored.
    """
    import trafilatura  # about 0.2 s to import: only when a page is read

    tree = trafilatura.load_html(html)
    if tree is None:
        raise PageError("the page is not HTML that can be read")
    language = _language(tree.get("lang"))
    found = trafilatura.bare_extraction(tree, url=url, **EXTRACTION)
    body = "" if found is None or isinstance(found, dict) else found.text or ""
    if found is None or isinstance(found, dict) or not body.strip():
        raise PageError("the page has no article text")
    title = _one_line(found.title or "")
    paragraphs = tuple(line for raw in body.splitlines() if (line := _SPACE.sub(" ", raw).strip()) and line != title)
    if sum(len(p.split()) for p in paragraphs) < MIN_ARTICLE_WORDS:
        raise PageError("the page has no article text")
    date = found.date if found.date and _ISO_DATE.fullmatch(found.date) else None
    link = _one_line(found.url or url or "")
    return Article(
        title=title or paragraphs[0][:80],
        date=date,
        url=link if link.startswith(("http://", "https://")) else None,
        language=language,
        paragraphs=paragraphs,
    )


def _one_line(value: str) -> str:
    return _SPACE.sub(" ", _LINE_BREAK.sub(" ", value)).strip()


def _language(tag: str | None) -> str | None:
    """``nl`` from ``nl-NL``, ``en`` from ``en``; None for anything that is not a language tag."""
    primary = (tag or "").strip().split("-")[0].split("_")[0]
    return primary.lower() if _LANGUAGE.fullmatch(primary) else None
