"""Admin changes to the corpus folder: safe names, checked content, atomic writes, careful removal."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.corpus import Refused, check_name, check_upload, remove_document, save_document
from index import load_corpus

GOOD = b"date 2024-05\n\nDe vuurtoren van Texel is 35 meter hoog.\n"


@pytest.mark.parametrize("name", ["notes.txt", "Verslag_2024-05.md", "a.TXT", "x1.b.txt"])
def test_plain_names_are_accepted(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.txt", "refuse_name"),
        ("..\\escape.txt", "refuse_name"),
        ("sub/dir.txt", "refuse_name"),
        ("/etc/passwd.txt", "refuse_name"),
        (".hidden.txt", "refuse_name"),
        ("a..txt", "refuse_name"),
        ("spaces in name.txt", "refuse_name"),
        ("naïef.txt", "refuse_name"),
        ("x" * 120 + ".txt", "refuse_name"),
        ("report.pdf", "refuse_type"),
        ("script.py", "refuse_type"),
        ("notes.txt.exe", "refuse_type"),
        ("", "refuse_type"),
        (None, "refuse_type"),
    ],
)
def test_unsafe_or_foreign_names_are_refused(name: str | None, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        check_name(name)
    assert refused.value.reason == reason


def test_size_is_checked_before_and_after_download(tmp_path: Path) -> None:
    with pytest.raises(Refused) as refused:
        check_upload("big.txt", 2_000_001, 1_000_000)
    assert refused.value.reason == "refuse_size" and refused.value.values == {"limit": 1_000_000}
    assert check_upload("big.txt", None, 1_000_000) == "big.txt"  # unknown size: checked after download
    with pytest.raises(Refused, match="refuse_size"):
        save_document(tmp_path, "big.txt", b"a" * 101, 100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe\x00t\x00e", "refuse_encoding"),
        (b"caf\xe9", "refuse_encoding"),
        (b"a\x00b", "refuse_encoding"),
        (b"  \n\n \n", "refuse_empty"),
        (b"date 2024-05\n", "refuse_empty"),
    ],
)
def test_content_must_be_utf8_text(tmp_path: Path, content: bytes, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        save_document(tmp_path, "doc.txt", content, 1000)
    assert refused.value.reason == reason
    assert list(tmp_path.iterdir()) == []


def test_a_document_is_added_then_replaced_and_read_by_the_corpus_loader(tmp_path: Path) -> None:
    assert save_document(tmp_path, "texel.txt", GOOD, 1000) is False
    assert save_document(tmp_path, "texel.txt", GOOD + b"\nNog een alinea.\n", 1000) is True
    assert [p.name for p in tmp_path.iterdir()] == ["texel.txt"]  # no temporary files left behind
    (document,) = load_corpus(tmp_path).documents
    assert document.date == "2024-05" and len(document.paragraphs) == 2


def test_remove_takes_out_one_document_but_never_the_last(tmp_path: Path) -> None:
    save_document(tmp_path, "a.txt", GOOD, 1000)
    save_document(tmp_path, "b.md", GOOD, 1000)
    (tmp_path / "keep.pdf").write_bytes(b"not a document")
    for name in ("c.txt", "../a.txt", "keep.pdf", "A.TXT"):
        with pytest.raises(Refused) as refused:
            remove_document(tmp_path, name)
        assert refused.value.reason == "remove_missing"
    remove_document(tmp_path, "a.txt")
    with pytest.raises(Refused) as refused:
        remove_document(tmp_path, "b.md")
    assert refused.value.reason == "remove_last"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.md", "keep.pdf"]
