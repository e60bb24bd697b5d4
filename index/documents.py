"""Documents, paragraphs and sentences: how a corpus folder becomes retrievable units."""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.errors import EngineError

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
PAGE_SUFFIXES = (".html", ".htm")  # web pages: their article is read with trafilatura (``index.pages``)
SUFFIXES = TEXT_SUFFIXES + PAGE_SUFFIXES
# The longest paragraph kept whole. A longer one (a document without blank lines, say) is cut
# into paragraphs of at most this many characters, so every text the model embeds and every
# passage a reply shows is bounded, whatever the document. Above the longest paragraph of the
# evaluation sets (1,765 characters), and one Telegram message holds it.
MAX_PARAGRAPH_CHARS = 2000

# Header lines at the very start of a document, not part of its text, in any order, each once:
# "date: 2023-10" (or a full date; the colon may be left out, and text may follow on the same
# line, as in the shipped article), "title: The headline" and "url: https://..." (each to the end
# of its line). Without a title line, a leading Markdown heading is the title.
_DATE_PREFIX = re.compile(r"\A\s*date(?::[ \t]*|[ \t]+)(\d{4}-\d{2}(?:-\d{2})?)\b\s*", re.IGNORECASE)
_TITLE_LINE = re.compile(r"\A\s*title:[ \t]*([^\r\n]*\S)[ \t]*(?:\r?\n|\r|\Z)\s*", re.IGNORECASE)
_URL_LINE = re.compile(r"\A\s*url:[ \t]*(https?://[^\s]+)[ \t]*(?:\r?\n|\r|\Z)\s*", re.IGNORECASE)
_HEADING = re.compile(r"\A\s*#{1,6}[ \t]+([^\r\n]*?\S)(?:[ \t]+#+)?[ \t]*(?:\r?\n|\r|\Z)\s*")
_TRAILING_DATE = re.compile(r"[-_ ]\d{4}(?:[-_]\d{2}){0,2}$")
_BLANK_LINE = re.compile(r"\n[ \t]*\n+")
# A sentence ends at . ! ? or … (optionally followed by a closing quote or bracket)
# when whitespace and an upper-case letter, digit or opening quote follow.
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)]?\s+(?=[\"'\u201c\u2018(\[]?[A-Z\u00c0-\u00de0-9])")


class CorpusError(EngineError):
    """The corpus cannot be read or holds nothing to index."""


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a document: the unit the engine returns."""

    source: str
    number: int
    text: str
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """A corpus file: its name, title, optional date, paragraphs and optional link to the article."""

    name: str
    title: str
    date: str | None
    paragraphs: Sequence[Paragraph]  # a tuple when read from a file, mapped when loaded from an index
    url: str | None = None


@dataclass
class Corpus:
    """The readable documents of a corpus folder, plus the files that were skipped and why."""

    documents: list[Document]
    skipped: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for doc in self.documents for p in doc.paragraphs]


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences; each is an exact substring of the paragraph."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        end = match.start() + len(match.group(0).rstrip())
        piece = paragraph[start:end].strip()
        if piece:
            pieces.append(piece)
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def bound_paragraph(paragraph: str, limit: int = MAX_PARAGRAPH_CHARS) -> list[str]:
    """``paragraph`` in pieces of at most ``limit`` characters, each an exact substring.

    Cut between sentences where one ends within the limit, else at the last whitespace, else
    after ``limit`` characters; nothing but the whitespace at the cuts is dropped.
    """
    if len(paragraph) <= limit:
        return [paragraph]
    breaks = [match.end() for match in _SENTENCE_END.finditer(paragraph)]
    pieces: list[str] = []
    start = 0
    while len(paragraph) - start > limit:
        end = start + limit
        at = bisect.bisect_right(breaks, end) - 1
        if at >= 0 and breaks[at] > start:
            cut = breaks[at]
        else:
            space = max(paragraph.rfind(c, start + 1, end + 1) for c in " \t\n")
            cut = space if space > start else end
        piece = paragraph[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
        while start < len(paragraph) and paragraph[start].isspace():
            start += 1
    rest = paragraph[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def split_paragraphs(text: str) -> list[str]:
    """Split text on blank lines, and paragraphs over ``MAX_PARAGRAPH_CHARS`` into bounded pieces;
    whitespace around each paragraph is dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [piece for p in _BLANK_LINE.split(text) if p.strip() for piece in bound_paragraph(p.strip())]


@dataclass(frozen=True)
class Header:
    """A document's header lines (see ``_DATE_PREFIX``), and the text after them."""

    date: str | None
    title: str | None
    url: str | None
    body: str


def read_header(text: str) -> Header:
    """The leading ``date``, ``title:`` and ``url:`` lines, each once, in any order; then a
    leading Markdown heading as the title when there was no title line."""
    found: dict[str, str] = {}
    patterns = {"date": _DATE_PREFIX, "title": _TITLE_LINE, "url": _URL_LINE}
    while match := next(
        ((key, m) for key, pattern in patterns.items() if key not in found and (m := pattern.match(text))), None
    ):
        key, m = match
        found[key] = m.group(1).strip()
        text = text[m.end() :]
    if "title" not in found and (heading := _HEADING.match(text)):
        found["title"] = heading.group(1).strip()
        text = text[heading.end() :]
    return Header(date=found.get("date"), title=found.get("title"), url=found.get("url"), body=text)


def parse_document(name: str, text: str) -> Document:
    """Turn a document's text into paragraphs, reading its header lines (``read_header``) as
    metadata; without a title, the file name gives one."""
    header = read_header(text.lstrip("\ufeff"))
    paragraphs = tuple(
        Paragraph(source=name, number=i, text=p, sentences=tuple(split_sentences(p)))
        for i, p in enumerate(split_paragraphs(header.body), start=1)
    )
    return Document(
        name=name, title=header.title or _title(name), date=header.date, paragraphs=paragraphs, url=header.url
    )


def parse_page(name: str, html: bytes) -> Document:
    """The article of a web page (``index.pages.read_page``) as a document; no paragraphs when it has none."""
    from index.pages import PageError, read_page

    try:
        article = read_page(html)
    except PageError:
        return Document(name=name, title=_title(name), date=None, paragraphs=())
    return parse_document(name, article.text())


def read_document(name: str, raw: bytes) -> Document:
    """The document in the file ``name`` holding ``raw``: a web page or UTF-8 text.

    UnicodeDecodeError when a text file is not UTF-8.
    """
    if name.lower().endswith(PAGE_SUFFIXES):
        return parse_page(name, raw)
    return parse_document(name, raw.decode("utf-8"))


def _title(name: str) -> str:
    """A readable title from a file name: ``armenia-icc-2023-10.txt`` → ``Armenia icc``."""
    stem = _TRAILING_DATE.sub("", Path(name).stem).replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else name


def printable_name(name: str) -> str:
    """A file name as text that can be printed and stored: bytes that are not UTF-8 as ``\\xNN``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def corpus_files(folder: Path) -> list[Path]:
    """The document files of a corpus folder, sorted by name; hidden files are ignored.

    CorpusError when the folder exists but cannot be listed.
    """
    return [p for p in _visible_files(folder) if p.suffix.lower() in SUFFIXES]


def _visible_files(folder: Path) -> list[Path]:
    """Every file of ``folder`` but the hidden ones, sorted by name (see ``corpus_files``)."""
    if not folder.is_dir():
        return []
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise CorpusError(f"cannot read corpus folder {folder}: {exc.strerror or exc}") from None
    return sorted(p for p in entries if p.is_file() and not p.name.startswith("."))


def _skip(skipped: dict[str, str], name: str, why: str) -> None:
    skipped[name] = why
    logger.warning("skipping %s: %s", name, why)


def _readable(folder: Path, skipped: dict[str, str], *, log: bool = True) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of every document file in ``folder`` that can be read (text files must be
    UTF-8); the others, and files of other kinds, go to ``skipped`` with the reason (logged when ``log``)."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {folder} does not exist")

    def skip(name: str, why: str) -> None:
        if log:
            _skip(skipped, name, why)
        else:
            skipped[name] = why

    for path in _visible_files(folder):
        name = printable_name(path.name)
        if path.suffix.lower() not in SUFFIXES:
            skip(name, f"not a document ({', '.join(SUFFIXES)})")
            continue
        if name != path.name:  # it could not be stored in the index, nor named in a reply
            skip(name, "the file name is not UTF-8")
            continue
        try:
            raw = path.read_bytes()
            if path.suffix.lower() in TEXT_SUFFIXES:
                raw.decode("utf-8")
        except OSError as exc:
            skip(name, f"cannot be read ({exc.strerror or exc})")
            continue
        except UnicodeDecodeError as exc:
            skip(name, f"not UTF-8 text (byte {exc.start})")
            continue
        yield path.name, raw


def load_corpus(folder: Path) -> Corpus:
    """Read every document in ``folder``; files that cannot be read or hold no text are skipped and named."""
    documents: list[Document] = []
    skipped: dict[str, str] = {}
    digest = hashlib.sha256()
    for name, raw in _readable(folder, skipped):
        document = read_document(name, raw)
        if not document.paragraphs:
            _skip(skipped, name, "no text")
            continue
        documents.append(document)
        digest.update(name.encode() + b"\0" + raw + b"\0")
    return Corpus(documents=documents, skipped=skipped, fingerprint=digest.hexdigest())


def corpus_fingerprint(folder: Path) -> str:
    """The fingerprint ``load_corpus(folder)`` gives, without splitting any text file: whether an
    index is current is known in a fraction of the time (a million sentences: ~0.3 s against ~6 s)."""
    digest = hashlib.sha256()
    for name, raw in _readable(folder, {}, log=False):
        if _has_text(name, raw):
            digest.update(name.encode() + b"\0" + raw + b"\0")
    return digest.hexdigest()


def _has_text(name: str, raw: bytes) -> bool:
    """Whether the document file ``name`` has paragraphs (see ``split_paragraphs``)."""
    if name.lower().endswith(PAGE_SUFFIXES):
        return bool(parse_page(name, raw).paragraphs)
    return bool(read_header(raw.decode("utf-8").lstrip("\ufeff")).body.strip())
