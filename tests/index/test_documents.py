"""Corpus reading: paragraphs, sentences, the date prefix and files that cannot be read."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from index.documents import (
    MAX_PARAGRAPH_CHARS,
    CorpusError,
    corpus_fingerprint,
    load_corpus,
    parse_document,
    split_paragraphs,
    split_sentences,
)
from tests.conftest import ARTICLE
from tests.support.files import make_unreadable


def test_article_date_prefix_is_metadata_not_text() -> None:
    document = parse_document(ARTICLE.name, ARTICLE.read_text("utf-8"))
    assert document.date == "2023-10"
    assert len(document.paragraphs) == 8
    assert all("date 2023-10" not in p.text for p in document.paragraphs)
    assert document.paragraphs[0].text.startswith("Het gebrek aan steun")
    assert [p.number for p in document.paragraphs] == list(range(1, 9))


def test_paragraph_text_is_exactly_as_in_the_document() -> None:
    raw = ARTICLE.read_text("utf-8")
    for paragraph in parse_document(ARTICLE.name, raw).paragraphs:
        assert paragraph.text in raw


def test_sentences_are_exact_substrings_in_order() -> None:
    paragraph = (
        'Het Kremlin zegt: "We hebben vragen over het leiderschap." De woordvoerder voegt daaraan toe '
        "dat Rusland dat niet wil. Is dat zo? Ja! 3 landen stemden tegen."
    )
    sentences = split_sentences(paragraph)
    assert sentences == [
        'Het Kremlin zegt: "We hebben vragen over het leiderschap."',
        "De woordvoerder voegt daaraan toe dat Rusland dat niet wil.",
        "Is dat zo?",
        "Ja!",
        "3 landen stemden tegen.",
    ]
    position = 0
    for sentence in sentences:
        position = paragraph.index(sentence, position) + len(sentence)


def test_split_paragraphs_handles_windows_newlines_and_blank_runs() -> None:
    assert split_paragraphs("een\r\n\r\n\r\ntwee\n  \ndrie\nvier\n") == ["een", "twee", "drie\nvier"]


def test_document_without_prefix_has_no_date() -> None:
    document = parse_document("notes.md", "Alleen tekst over het datum-debat.\n\nTweede alinea.")
    assert document.date is None
    assert len(document.paragraphs) == 2


def test_non_utf8_file_is_named_and_others_are_read(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Een goede alinea.\n\nNog een.", "utf-8")
    (tmp_path / "bad.txt").write_bytes("Caf\xe9 in latin-1".encode("latin-1"))
    (tmp_path / "notes.md").write_text("# Kop\n\nTekst.", "utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("verborgen", "utf-8")
    corpus = load_corpus(tmp_path)
    assert [d.name for d in corpus.documents] == ["good.txt", "notes.md"]
    assert list(corpus.skipped) == ["bad.txt", "image.png"]  # named, not skipped without a word
    assert "UTF-8" in corpus.skipped["bad.txt"]
    assert "not a document" in corpus.skipped["image.png"]


def test_fingerprint_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Eerste versie.", "utf-8")
    first = load_corpus(tmp_path).fingerprint
    assert load_corpus(tmp_path).fingerprint == first
    (tmp_path / "a.txt").write_text("Tweede versie.", "utf-8")
    assert load_corpus(tmp_path).fingerprint != first


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")


def test_titles_come_from_a_markdown_heading_or_the_file_name() -> None:
    assert parse_document("x.md", "# Armenië en het Strafhof\n\nTekst.").title == "Armenië en het Strafhof"
    assert parse_document("armenia-icc-2023-10.txt", "Tekst.").title == "Armenia icc"
    assert parse_document("notes_2024.md", "Tekst.").title == "Notes"


@pytest.mark.parametrize(
    "text",
    [
        "title: Armenië kiest het Strafhof\ndate 2023-10 Eerste alinea.\n\nTweede alinea.",
        "date 2023-10\ntitle: Armenië kiest het Strafhof\n\nEerste alinea.\n\nTweede alinea.",
        "date 2023-10 title:  Armenië kiest het Strafhof \r\nEerste alinea.\r\n\r\nTweede alinea.",
        "\ufefftitle: Armenië kiest het Strafhof\n# Een kop die geen titel meer is\n\n"
        "date 2023-10 Eerste alinea.\n\nTweede alinea.",
    ],
)
def test_a_title_line_beside_the_date_is_metadata_and_names_the_document(text: str) -> None:
    document = parse_document("armenia-icc-2023-10.txt", text)
    assert document.title == "Armenië kiest het Strafhof"
    assert all("title:" not in p.text and "Armenië kiest" not in p.text for p in document.paragraphs)
    assert document.paragraphs[-1].text == "Tweede alinea."
    if "# Een kop" not in text:
        assert document.date == "2023-10"
        assert [p.text for p in document.paragraphs] == ["Eerste alinea.", "Tweede alinea."]


def test_files_without_a_title_line_read_as_before() -> None:
    old = parse_document(ARTICLE.name, "date 2023-10 Het gebrek aan steun.\n\nDe title: staat hier midden in.")
    assert (old.title, old.date) == ("Armenia icc", "2023-10")
    assert [p.text for p in old.paragraphs] == ["Het gebrek aan steun.", "De title: staat hier midden in."]
    empty = parse_document("leeg.txt", "title:\nTekst.")  # a title line with no title is text
    assert empty.title == "Leeg" and empty.paragraphs[0].text == "title:\nTekst."


def test_a_file_name_that_is_not_utf8_is_skipped_and_named_escaped(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Een goede alinea.", "utf-8")
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt"), "wb") as latin1_name:
        latin1_name.write(b"Tekst in een bestand met een latin-1 naam.")
    corpus = load_corpus(tmp_path)
    assert [d.name for d in corpus.documents] == ["good.txt"]
    assert corpus.skipped == {"caf\\xe9.txt": "the file name is not UTF-8"}
    "".join(corpus.skipped).encode("utf-8")  # printable and storable, unlike the name itself


def test_a_file_that_cannot_be_read_is_skipped_and_named(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Een goede alinea.", "utf-8")
    make_unreadable(tmp_path / "locked.txt")
    corpus = load_corpus(tmp_path)
    assert [d.name for d in corpus.documents] == ["good.txt"]
    assert re.fullmatch(r"cannot be read \((Permission denied|Input/output error)\)", corpus.skipped["locked.txt"])


def test_a_document_without_blank_lines_is_cut_into_bounded_paragraphs() -> None:
    sentences = [f"Zin {i} gaat over het Strafhof en Armenië." for i in range(20_000)]
    one_line = " ".join(sentences) + " " + "x" * (3 * MAX_PARAGRAPH_CHARS)  # and one endless 'word'
    document = parse_document("one-line.txt", one_line)
    paragraphs = document.paragraphs
    assert len(paragraphs) > len(one_line) // MAX_PARAGRAPH_CHARS
    assert max(len(p.text) for p in paragraphs) <= MAX_PARAGRAPH_CHARS
    assert max(len(s) for p in paragraphs for s in p.sentences) <= MAX_PARAGRAPH_CHARS
    assert [p.number for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    # Nothing lost: the pieces are the text in order, cut between sentences while there are any.
    assert "".join(p.text for p in paragraphs).replace(" ", "") == one_line.replace(" ", "")
    assert all(p.text.endswith(".") for p in paragraphs[:-4])
    assert all(p.text in one_line for p in paragraphs[:50])


def test_paragraphs_within_the_bound_are_kept_whole() -> None:
    text = ARTICLE.read_text("utf-8")
    assert split_paragraphs(text) == [p.strip() for p in re.split(r"\n[ \t]*\n+", text) if p.strip()]


def test_the_fingerprint_alone_is_the_one_a_full_read_gives(tmp_path: Path) -> None:
    """The engine checks an index against the corpus by ``corpus_fingerprint``, without splitting texts."""
    files = {
        "a.txt": "date 2023-10\ntitle: Een kop\nEerste alinea. Tweede zin.\n\nNog een alinea.",
        "leeg.txt": "date 2023-10\ntitle: Alleen een kop\n  \n",
        "bom.md": "\ufeff# Kop\n\nTekst.",
        "spaties.txt": " \n\t\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    corpus = load_corpus(tmp_path)
    assert sorted(corpus.skipped) == ["latin1.txt", "leeg.txt", "spaties.txt"]
    assert corpus_fingerprint(tmp_path) == corpus.fingerprint
    (tmp_path / "a.txt").write_text("Anders.", "utf-8")
    assert corpus_fingerprint(tmp_path) == load_corpus(tmp_path).fingerprint != corpus.fingerprint


@pytest.mark.parametrize(
    "text",
    [
        "title: Armenië kiest het Strafhof\ndate: 2023-09-17\nurl: https://news.example/a?b=1\n\nEen.\n\nTwee.",
        "url: https://news.example/a?b=1\r\nDate: 2023-09-17\r\nTitle: Armenië kiest het Strafhof\r\n\r\n"
        "Een.\r\n\r\nTwee.",
        "date 2023-09-17\nurl:https://news.example/a?b=1\n# Armenië kiest het Strafhof\n\nEen.\n\nTwee.",
    ],
)
def test_header_lines_as_people_write_them_are_metadata(text: str) -> None:
    document = parse_document("a.txt", text)
    assert (document.title, document.date, document.url) == (
        "Armenië kiest het Strafhof",
        "2023-09-17",
        "https://news.example/a?b=1",
    )
    assert [(p.number, p.text) for p in document.paragraphs] == [(1, "Een."), (2, "Twee.")]


def test_a_leading_markdown_heading_is_the_title_not_paragraph_one() -> None:
    for text in (
        "# Kop van het stuk\n\nEerste alinea.\n\nTweede.",
        "## Kop van het stuk ##\nEerste alinea.\n\nTweede.",
    ):
        document = parse_document("stuk.md", text)
        assert document.title == "Kop van het stuk"
        assert [(p.number, p.text) for p in document.paragraphs] == [(1, "Eerste alinea."), (2, "Tweede.")]


def test_header_words_inside_the_text_stay_text() -> None:
    document = parse_document("a.txt", "Eerste alinea.\n\nurl: https://x.example\ndate: 2023-10")
    assert (document.date, document.url) == (None, None)
    assert document.paragraphs[1].text == "url: https://x.example\ndate: 2023-10"
    not_a_link = parse_document("b.txt", "url: ftp://x.example\n\nTekst.")
    assert not_a_link.url is None and not_a_link.paragraphs[0].text == "url: ftp://x.example"
