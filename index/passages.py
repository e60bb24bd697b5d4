"""The texts of an index on disk: documents in JSON, every paragraph and sentence in one UTF-8 file.

Files, in an index version's folder::

    documents.json          name, title, date, URL, paragraph count and digest of each document (a
                            flat record; the digest says when its vectors can be reused, ``index.reuse``)
    text.bin                every paragraph's text, then every sentence row's text, as UTF-8
    paragraph_text.npy      int64, paragraphs + 1: where each paragraph's text starts in text.bin
    sentence_text.npy       int64, sentence rows + 1: where each sentence row's text starts
    paragraph_info.npy      int64, paragraphs by 3: paragraph number, document, sentence count
    sentence_paragraph.npy  int64, one per sentence row: the row's paragraph
    sentence_offset.npy     int64, one per sentence row: its position in its paragraph

A sentence row is a paragraph's sentence, or the whole paragraph when it has none (a sentence
count of 0). A served index maps these files and builds a ``Paragraph`` only when one is
asked for: with a million sentences, Python objects for every text would take hundreds of
megabytes in each process and seconds to load, where mapped pages are shared by every worker
on the host.
"""

from __future__ import annotations

import json
import mmap
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from index.arrays import mapped, save_rows
from index.documents import Document, Paragraph

PASSAGE_FILES = (
    "documents.json",
    "text.bin",
    "paragraph_text.npy",
    "sentence_text.npy",
    "paragraph_info.npy",
    "sentence_paragraph.npy",
    "sentence_offset.npy",
)


def rows_of(paragraph: Paragraph) -> tuple[str, ...]:
    """A paragraph's sentence rows: its sentences, or its whole text when it has none."""
    return paragraph.sentences or (paragraph.text,)


class PassageWriter:
    """Writes the text files of an index a document at a time (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._documents: list[dict[str, Any]] = []
        self._paragraph_text = array("q", [0])
        self._sentence_text = array("q", [0])
        self._info = array("q")
        self._sentence_paragraph = array("q")
        self._sentence_offset = array("q")
        self._paragraphs = open(folder / "text.bin", "wb")  # noqa: SIM115 - closed in close()
        self._sentences = open(folder / "sentences.tmp", "w+b")  # noqa: SIM115 - appended to text.bin, removed

    def add(self, document: Document, digest: str = "") -> None:
        number = len(self._documents)
        about = {"name": document.name, "title": document.title, "date": document.date, "url": document.url}
        self._documents.append({**about, "paragraphs": len(document.paragraphs), "digest": digest})
        for paragraph in document.paragraphs:
            index = len(self._info) // 3
            text = paragraph.text.encode("utf-8")
            self._paragraphs.write(text)
            self._paragraph_text.append(self._paragraph_text[-1] + len(text))
            self._info.extend((paragraph.number, number, len(paragraph.sentences)))
            for position, sentence in enumerate(rows_of(paragraph)):
                data = sentence.encode("utf-8")
                self._sentences.write(data)
                self._sentence_text.append(self._sentence_text[-1] + len(data))
                self._sentence_paragraph.append(index)
                self._sentence_offset.append(position)

    @property
    def sentences(self) -> int:
        return len(self._sentence_paragraph)

    def close(self) -> None:
        """Finish every file: the sentences go after the paragraphs in text.bin."""
        start = self._paragraph_text[-1]
        self._sentences.seek(0)
        while chunk := self._sentences.read(1 << 22):
            self._paragraphs.write(chunk)
        self._paragraphs.close()
        self._sentences.close()
        (self.folder / "sentences.tmp").unlink()
        (self.folder / "documents.json").write_text(
            json.dumps({"documents": self._documents}, ensure_ascii=False), "utf-8"
        )
        save_rows(self.folder / "paragraph_text.npy", np.frombuffer(self._paragraph_text, dtype=np.int64))
        save_rows(self.folder / "sentence_text.npy", start + np.frombuffer(self._sentence_text, dtype=np.int64))
        save_rows(self.folder / "paragraph_info.npy", np.frombuffer(self._info, dtype=np.int64).reshape(-1, 3))
        save_rows(self.folder / "sentence_paragraph.npy", np.frombuffer(self._sentence_paragraph, dtype=np.int64))
        save_rows(self.folder / "sentence_offset.npy", np.frombuffer(self._sentence_offset, dtype=np.int64))


class StoredParagraphs(Sequence[Paragraph]):
    """Paragraphs ``start`` to ``stop`` of a stored index, each read from the mapped text when asked for."""

    def __init__(self, texts: StoredTexts, start: int, stop: int) -> None:
        self._texts = texts
        self._start = start
        self._stop = stop

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, item: int) -> Paragraph: ...

    @overload
    def __getitem__(self, item: slice) -> Sequence[Paragraph]: ...

    def __getitem__(self, item: int | slice) -> Paragraph | Sequence[Paragraph]:
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError(item)
        return self._texts.paragraph(self._start + item)

    def __iter__(self) -> Iterator[Paragraph]:
        for i in range(self._start, self._stop):
            yield self._texts.paragraph(i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class StoredTexts:
    """The mapped text files of one index version (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        data = json.loads((folder / "documents.json").read_text("utf-8"))
        with open(folder / "text.bin", "rb") as f:
            size = f.seek(0, 2)
            self._blob: mmap.mmap | bytes = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._paragraph_text = mapped(folder / "paragraph_text.npy")
        self._sentence_text = mapped(folder / "sentence_text.npy")
        self._info = mapped(folder / "paragraph_info.npy")
        self.sentence_paragraph = mapped(folder / "sentence_paragraph.npy")
        self.sentence_offset = mapped(folder / "sentence_offset.npy")
        # Rows are stored in paragraph order, so paragraph i's rows are first_rows[i]:first_rows[i + 1]
        # (made here, not stored: 16 ms at 1M rows).
        self.first_rows = np.searchsorted(self.sentence_paragraph, np.arange(len(self._info) + 1))
        self._names: list[str] = []
        self.digests: list[str] = [str(d.get("digest") or "") for d in data["documents"]]
        documents: list[Document] = []
        start = 0
        for d in data["documents"]:
            stop = start + int(d["paragraphs"])
            self._names.append(d["name"])
            paragraphs = StoredParagraphs(self, start, stop)
            documents.append(Document(d["name"], d["title"], d["date"], paragraphs, url=d.get("url")))
            start = stop
        self.documents = documents
        self.paragraphs = StoredParagraphs(self, 0, start)
        rows = len(self.sentence_paragraph)
        if (
            self._info.shape != (start, 3)
            or len(self._paragraph_text) != start + 1
            or len(self._sentence_text) != rows + 1
            or len(self.sentence_offset) != rows
            or (rows and int(self._sentence_text[-1]) != len(self._blob))
        ):
            raise ValueError("the text files do not match each other")

    def _text(self, offsets: np.ndarray, i: int) -> str:
        return self._blob[int(offsets[i]) : int(offsets[i + 1])].decode("utf-8")

    def sentence(self, row: int) -> str:
        return self._text(self._sentence_text, row)

    def paragraph(self, i: int) -> Paragraph:
        number, document, count = (int(x) for x in self._info[i])
        text = self._text(self._paragraph_text, i)
        if count:
            first = int(self.first_rows[i])
            sentences = tuple(self.sentence(row) for row in range(first, first + count))
        else:
            sentences = ()
        return Paragraph(source=self._names[document], number=number, text=text, sentences=sentences)
