"""Web pages as articles: trafilatura's main text and metadata, and the text file that keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.documents import load_corpus, parse_document
from index.pages import PageError, read_page

PAGES = Path(__file__).resolve().parent.parent / "data" / "pages"
NEWS_PAGE = PAGES / "nieuws-snelweg.html"
# Words that only the page's surroundings hold: menu, cookie banner, share links, comments,
# related articles and footer.
AROUND_THE_ARTICLE = ("Binnenland", "cookies", "Facebook", "WhatsApp", "Henk58", "Sterkte", "flitspalen", "app")


def test_a_news_page_gives_its_article_and_nothing_around_it() -> None:
    article = read_page(NEWS_PAGE.read_bytes())
    assert article.title == "Snelweg A12 urenlang dicht na kettingbotsing bij Woerden"
    assert article.date == "2024-03-14"
    assert article.url == "https://dagnieuws.example/binnenland/a12-dicht-kettingbotsing"
    assert article.language == "nl"
    assert len(article.paragraphs) == 3
    assert article.paragraphs[0].startswith("Bij een kettingbotsing op de A12")
    assert "De politie sloot de snelweg A12 urenlang af" in article.paragraphs[0]
    text = " ".join(article.paragraphs)
    assert not [word for word in AROUND_THE_ARTICLE if word in text]


def test_the_stored_text_reads_back_as_the_same_document() -> None:
    article = read_page(NEWS_PAGE.read_bytes())
    document = parse_document("a12.txt", article.text())
    assert (document.title, document.date, document.url) == (article.title, article.date, article.url)
    assert tuple(p.text for p in document.paragraphs) == article.paragraphs
    assert [p.number for p in document.paragraphs] == [1, 2, 3]


def test_an_html_file_in_the_corpus_folder_is_read_as_its_article(tmp_path: Path) -> None:
    (tmp_path / "a12.html").write_bytes(NEWS_PAGE.read_bytes())
    (tmp_path / "menu.htm").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>", "utf-8")
    corpus = load_corpus(tmp_path)
    [document] = corpus.documents
    assert document.name == "a12.html"
    assert document.title.startswith("Snelweg A12") and document.date == "2024-03-14"
    assert document.url and document.url.startswith("https://dagnieuws.example/")
    assert corpus.skipped == {"menu.htm": "no text"}


@pytest.mark.parametrize(
    "html",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"<html><body><nav><a href='/'>Home</a> <a href='/x'>Sport</a></nav></body></html>",
    ],
)
def test_a_page_without_article_text_is_refused(html: bytes) -> None:
    with pytest.raises(PageError):
        read_page(html)


def test_a_title_or_url_with_a_line_break_cannot_add_header_lines() -> None:
    page = (
        "<html><head><title>Kop\ndate: 1999-01</title>"
        "<link rel='canonical' href='javascript:alert(1)'></head>"
        "<body><article><p>Een alinea met genoeg tekst om als artikel te gelden, over de gemeenteraad "
        "van Zwolle die dinsdag besloot tot een nieuwe fietsbrug over de IJssel.</p></article></body></html>"
    )
    article = read_page(page, url="https://example.org/zwolle")
    document = parse_document("zwolle.txt", article.text())
    assert document.title == "Kop date: 1999-01"  # one line: the page's title cannot add a date line
    assert len(document.paragraphs) == 1
    assert document.url == "https://example.org/zwolle"
