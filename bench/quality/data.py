"""The question sets, their fixed tune/check halves, and the SQuAD articles as a corpus.

Every list of a set is split by position in its file: even positions (0, 2, ...) are the
"tune" half, odd ones the "check" half. Nothing about a question's content decides its half,
so the split cannot be chosen to flatter a method.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from index import Document

PROJECT = Path(__file__).resolve().parents[2]
EVAL_DIR = PROJECT / "tests" / "data" / "eval"
ARTICLE = PROJECT / "corpus" / "armenia-icc-2023-10.txt"
NEWSROOM = EVAL_DIR / "newsroom"  # the team's own articles and questions (its README.md)
FILES = {
    "qa_dev": "qa_dev.json",
    "qa_dev_v2": "qa_dev_v2.json",
    "squad": "squad2-en-dev.json",
    "newsroom": "newsroom/questions.json",
}
SETS = ("qa_dev", "qa_dev_v2", "squad", "squad-vs-article", "newsroom")

Half = Literal["tune", "check"]
HALVES: tuple[Half, ...] = ("tune", "check")
# answerable: a passage answers it; off_topic: should be refused; near_topic: on the subject,
# but no passage answers it (should be hedged or refused).
Kind = Literal["answerable", "off_topic", "near_topic"]


class DataError(Exception):
    """The eval data or the corpus built from it is not what the figures assume."""


@dataclass(frozen=True)
class Gold:
    """What counts as a right passage: one of ``paragraphs`` ((source, 1-based number)), or, when
    ``fragments`` are given instead, a passage whose text contains one of them."""

    paragraphs: frozenset[tuple[str, int]] = frozenset()
    fragments: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.paragraphs) == bool(self.fragments):
            raise ValueError("gold needs either paragraphs or fragments, not both or neither")

    def matches(self, source: str, paragraph: int, text: str) -> bool:
        if self.fragments:
            return any(fragment in text for fragment in self.fragments)
        return (source, paragraph) in self.paragraphs


@dataclass(frozen=True)
class Question:
    """One question of one set, with its half and, when answerable, its gold."""

    set: str
    kind: Kind
    text: str
    half: Half
    position: int
    lang: str = "en"
    style: str = ""
    gold: Gold | None = field(default=None, compare=False)
    answers: tuple[str, ...] = field(default=(), compare=False)  # the answer's exact words, when the set gives them
    document: str = ""  # the file of the article that answers it, when the set names one


def half_of(position: int) -> Half:
    """The half of the item at ``position`` (0-based) of its list."""
    return "tune" if position % 2 == 0 else "check"


def qa_dev(data: dict[str, Any]) -> list[Question]:
    """qa_dev.json: answerable (gold substrings) and unanswerable (to be refused)."""
    questions = [
        Question(
            "qa_dev",
            "answerable",
            item["q"],
            half_of(i),
            i,
            item["lang"],
            gold=Gold(fragments=tuple(item["gold"])),
            answers=tuple(item["gold"]),
        )
        for i, item in enumerate(data["answerable"])
    ]
    questions += [
        Question("qa_dev", "off_topic", item["q"], half_of(i), i, item["lang"])
        for i, item in enumerate(data["unanswerable"])
    ]
    return questions


def qa_dev_v2(data: dict[str, Any], source: str) -> list[Question]:
    """qa_dev_v2.json: answerable (gold paragraph numbers, and the answer's words), off_topic and near_topic."""
    questions = [
        Question(
            "qa_dev_v2",
            "answerable",
            item["q"],
            half_of(i),
            i,
            item["lang"],
            item["style"],
            Gold(paragraphs=frozenset((source, int(n)) for n in item["paragraph"])),
            tuple(item["gold"]),
        )
        for i, item in enumerate(data["answerable"])
    ]
    for kind in ("off_topic", "near_topic"):
        questions += [
            Question("qa_dev_v2", kind, item["q"], half_of(i), i, item["lang"]) for i, item in enumerate(data[kind])
        ]
    return questions


def newsroom(data: dict[str, Any]) -> list[Question]:
    """newsroom/questions.json: answerable questions about one article of a corpus of many (gold
    paragraph numbers in ``doc``, and the answer's words), off_topic and near_topic against them all."""
    questions = [
        Question(
            "newsroom",
            "answerable",
            item["q"],
            half_of(i),
            i,
            item["lang"],
            item["style"],
            Gold(paragraphs=frozenset((item["doc"], int(n)) for n in item["paragraph"])),
            tuple(item["gold"]),
            item["doc"],
        )
        for i, item in enumerate(data["answerable"])
    ]
    for kind in ("off_topic", "near_topic"):
        questions += [
            Question("newsroom", kind, item["q"], half_of(i), i, item["lang"]) for i, item in enumerate(data[kind])
        ]
    return questions


def write_newsroom_corpus(folder: Path, source: Path = NEWSROOM) -> list[str]:
    """The shipped article and every newsroom article in ``folder``; their file names.

    DataError when the articles are not the corpus the questions name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    articles = sorted((source / "articles").glob("*.txt"))
    names = [ARTICLE.name, *(path.name for path in articles)]
    expected = load_json(source / "questions.json").get("corpus", names)
    if sorted(expected) != sorted(names):
        raise DataError(f"the newsroom questions name the corpus {sorted(expected)}, the folder holds {sorted(names)}")
    for path in (ARTICLE, *articles):
        (folder / path.name).write_bytes(path.read_bytes())
    return names


def squad_file_name(title: str) -> str:
    """A corpus file name for a SQuAD article title."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", title).strip("._") + ".txt"


def squad(data: dict[str, Any]) -> tuple[list[Question], list[Question]]:
    """SQuAD 2.0 questions: against their own articles, and the same questions against the article.

    All questions are taken in file order; the answerable and the impossible ones are each split
    by their own position, so a question is in the same half in both uses.
    """
    own: list[Question] = []
    elsewhere: list[Question] = []
    seen = {False: 0, True: 0}
    for article in data["data"]:
        source = squad_file_name(article["title"])
        for number, paragraph in enumerate(article["paragraphs"], start=1):
            for item in paragraph["qas"]:
                impossible = bool(item["is_impossible"])
                position = seen[impossible]
                seen[impossible] += 1
                half = half_of(position)
                if impossible:
                    own.append(Question("squad", "near_topic", item["question"], half, position))
                else:
                    gold = Gold(paragraphs=frozenset({(source, number)}))
                    answers = tuple(answer["text"] for answer in item["answers"])
                    own.append(
                        Question("squad", "answerable", item["question"], half, position, gold=gold, answers=answers)
                    )
                elsewhere.append(Question("squad-vs-article", "off_topic", item["question"], half, position))
    return own, elsewhere


def write_squad_corpus(data: dict[str, Any], folder: Path) -> dict[str, list[str]]:
    """One ``.txt`` per SQuAD article in ``folder``, paragraphs separated by blank lines.

    Returns each file's paragraphs, for ``check_corpus``. A context with a blank line in it
    would become two paragraphs and shift every gold paragraph number after it: refused.
    """
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list[str]] = {}
    for article in data["data"]:
        name = squad_file_name(article["title"])
        if name in expected:
            raise DataError(f"two SQuAD articles map to the file name {name}")
        contexts = [paragraph["context"].strip() for paragraph in article["paragraphs"]]
        for number, context in enumerate(contexts, start=1):
            if not context or re.search(r"\n[ \t]*\n", context):
                raise DataError(f"{name} paragraph {number} is empty or holds a blank line")
        expected[name] = contexts
        (folder / name).write_text("\n\n".join(contexts) + "\n", "utf-8")
    return expected


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def check_corpus(documents: Sequence[Document], expected: dict[str, list[str]]) -> None:
    """Raise DataError unless the indexed documents have exactly the expected paragraphs."""
    found = {document.name: document for document in documents}
    if set(found) != set(expected):
        raise DataError(f"indexed documents {sorted(found)} are not the expected {sorted(expected)}")
    for name, paragraphs in expected.items():
        indexed = found[name].paragraphs
        if len(indexed) != len(paragraphs):
            raise DataError(f"{name}: the engine has {len(indexed)} paragraphs, the data {len(paragraphs)}")
        for paragraph, text in zip(indexed, paragraphs, strict=True):
            if not _same_text(paragraph.text, text):
                raise DataError(f"{name} paragraph {paragraph.number} is not the data's paragraph {paragraph.number}")


def check_gold(questions: Iterable[Question], documents: Sequence[Document]) -> None:
    """Raise DataError when an answerable question's gold matches no paragraph of the corpus."""
    paragraphs = [p for document in documents for p in document.paragraphs]
    for question in questions:
        if question.kind != "answerable":
            continue
        if question.gold is None:
            raise DataError(f"{question.set} answerable question {question.position} has no gold")
        if not any(question.gold.matches(p.source, p.number, p.text) for p in paragraphs):
            raise DataError(f"{question.set} question {question.position}: no paragraph matches its gold")


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def fingerprint(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256: which data a report was made from."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def find_leaks(questions: Iterable[Question], folder: Path, *, min_words: int = 4) -> list[tuple[str, str]]:
    """(file, question) for every question of ``min_words`` or more words found, word for word
    (case and punctuation aside), in a text file under ``folder``: eval data copied into it."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".txt", ".json", ".md", ".csv"}:
            texts[str(path.relative_to(folder.parent))] = " " + _words(path.read_text("utf-8", errors="replace")) + " "
    leaks = []
    for question in {q.text for q in questions}:
        words = _words(question)
        if len(words.split()) < min_words:
            continue
        leaks += [(name, question) for name, text in texts.items() if f" {words} " in text]
    return sorted(leaks)
