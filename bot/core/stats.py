"""The editor's view of the feedback: what readers asked, how it went, what they voted down.

Plain and synchronous (it reads SQLite and may embed questions): the bot calls it through
``asyncio.to_thread``; ``python -m bot stats`` calls it directly. The same report is rendered
as text (terminal and Telegram), as CSV, and questions readers liked as an evaluation set.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from bot.core.feedback import DAY, RECORDED, Feedback, FeedbackError, plain
from bot.core.texts import Language, text

if TYPE_CHECKING:
    from bot.core.settings import Settings

# Questions whose embeddings are at least this similar count as one (multilingual-e5-small:
# rewordings of one question score ~0.96-0.995, different questions on the same subject ≤ ~0.92).
NEAR_DUPLICATE = 0.95
TOP = 10
OUTCOMES = ("answered", "hedged", "refused")  # as ``ask --json`` reports them

Embed = Callable[[list[str]], np.ndarray]


def normalise(question: str) -> str:
    """Casefolded, punctuation dropped, whitespace collapsed: rewrites that differ only so are one question."""
    kept = "".join(" " if unicodedata.category(c).startswith("P") else c for c in question.casefold())
    return " ".join(kept.split())


@dataclass(frozen=True)
class Unanswered:
    """Refused or hedged questions that are one question (same text, or nearly the same meaning)."""

    question: str  # the wording asked most often
    asked: int
    chats: int
    outcome: str  # the outcome of the wording shown
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class Downvoted:
    """A passage shown on pages readers voted on."""

    source: str
    paragraph: int
    down: int
    up: int


@dataclass(frozen=True)
class Report:
    days: int
    since: float
    questions: int
    chats: int
    outcomes: dict[str, int]
    up: int
    down: int
    unanswered: list[Unanswered] = field(default_factory=list)
    downvoted: list[Downvoted] = field(default_factory=list)

    def share(self, outcome: str) -> float:
        return self.outcomes.get(outcome, 0) / self.questions if self.questions else 0.0


def _groups(rows: Sequence[tuple[str, str, str]], embed: Embed | None) -> list[Unanswered]:
    """Group (question, outcome, chat) rows by normalised text, then merge groups whose embeddings nearly match."""
    by_text: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for row in rows:
        by_text[normalise(row[0])].append(row)
    keys = sorted(by_text, key=lambda k: (-len(by_text[k]), k))
    clusters: list[list[str]] = [[k] for k in keys]
    if embed is not None and len(keys) > 1:
        vectors = embed([Counter(r[0] for r in by_text[k]).most_common(1)[0][0] for k in keys])
        leaders: list[int] = []
        clusters = []
        for i in range(len(keys)):
            match = next((n for n, j in enumerate(leaders) if float(vectors[i] @ vectors[j]) >= NEAR_DUPLICATE), None)
            if match is None:
                leaders.append(i)
                clusters.append([keys[i]])
            else:
                clusters[match].append(keys[i])
    found = []
    for cluster in clusters:
        members = [row for key in cluster for row in by_text[key]]
        wordings = Counter(row[0] for row in members)
        top = wordings.most_common(1)[0][0]
        outcome = next(row[1] for row in members if row[0] == top)
        variants = tuple(w for w, _ in wordings.most_common() if w != top)
        found.append(Unanswered(top, len(members), len({row[2] for row in members}), outcome, variants))
    return sorted(found, key=lambda u: (-u.asked, -u.chats, u.question))


def build(feedback: Feedback, days: int = 7, *, embed: Embed | None = None, top: int = TOP) -> Report:
    """The report over the last ``days`` days; ``embed`` (the engine's question encoder) merges rewordings."""
    since = feedback.now() - days * DAY
    outcomes = dict(feedback.rows("SELECT outcome, count(*) FROM questions WHERE at >= ? GROUP BY outcome", since))
    ((chats,),) = feedback.rows("SELECT count(DISTINCT chat) FROM questions WHERE at >= ?", since)
    votes = dict(feedback.rows(f"SELECT vote, count(*) FROM votes v WHERE at >= ? AND {RECORDED} GROUP BY vote", since))
    unanswered = feedback.rows(
        "SELECT question, outcome, chat FROM questions WHERE at >= ? AND outcome IN ('refused', 'hedged') "
        "ORDER BY at, question",  # among equally frequent wordings, the first asked represents the group
        since,
    )
    downvoted = feedback.rows(
        "SELECT s.source, s.paragraph, sum(v.vote < 0), sum(v.vote > 0) FROM votes v "
        "JOIN shown s ON s.chat = v.chat AND s.message = v.message AND s.page = v.page "
        "WHERE v.at >= ? GROUP BY s.source, s.paragraph HAVING sum(v.vote < 0) > 0 "
        "ORDER BY sum(v.vote < 0) DESC, sum(v.vote > 0), s.source, s.paragraph LIMIT ?",
        since,
        top,
    )
    return Report(
        days=days,
        since=since,
        questions=sum(outcomes.values()),
        chats=int(chats),
        outcomes=outcomes,
        up=int(votes.get(1, 0)),
        down=int(votes.get(-1, 0)),
        unanswered=_groups(unanswered, embed)[:top],
        downvoted=[Downvoted(str(s), int(p), int(d), int(u)) for s, p, d, u in downvoted],
    )


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def lines(report: Report, lang: Language = "en") -> list[str]:
    """The report as plain lines in ``lang``: the terminal's output, and (escaped) the /stats reply."""
    since = _day(report.since)
    found = [
        text(lang, "stats_header", days=report.days, since=since, questions=report.questions, chats=report.chats),
        text(lang, "stats_outcomes", **{outcome: report.share(outcome) for outcome in OUTCOMES}),
        text(lang, "stats_votes", up=report.up, down=report.down),
        "",
        text(lang, "stats_unanswered"),
    ]
    for rank, group in enumerate(report.unanswered, start=1):
        outcome = text(lang, f"outcome_{group.outcome}")
        asked = {"question": group.question, "asked": group.asked, "chats": group.chats, "outcome": outcome}
        found.append(text(lang, "stats_asked", rank=rank, **asked))
        found += [text(lang, "stats_also", variant=variant) for variant in group.variants[:3]]
    if not report.unanswered:
        found.append(text(lang, "stats_none"))
    found += ["", text(lang, "stats_downvoted")]
    found += [
        text(lang, "stats_passage", source=d.source, paragraph=d.paragraph, down=d.down, up=d.up)
        for d in report.downvoted
    ]
    if not report.downvoted:
        found.append(text(lang, "stats_none"))
    return [plain(line) for line in found]  # rows stored before questions were cleaned, too


CSV_HEADER = ("section", "item", "source", "paragraph", "count", "share", "chats")
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: no control characters, and a ``'`` before
    a formula's first character, also when spaces come first (a spreadsheet may strip them)."""
    found = plain(str(value))
    return "'" + found if found.lstrip(" ").startswith(FORMULA_STARTS) else found


class _CellWriter:
    """``csv.writer`` with every cell quoted and neutralised by ``cell``: readers' questions are data."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow([cell(value) for value in row])


def write_csv(report: Report, out: IO[str]) -> None:
    """The report as CSV with a header: one row per figure, unanswered question and voted-down passage."""
    writer = _CellWriter(out)
    writer.writerow(CSV_HEADER)
    writer.writerow(["summary", "questions", "", "", report.questions, "", report.chats])
    for outcome in OUTCOMES:
        share = f"{report.share(outcome):.4f}"
        writer.writerow(["summary", outcome, "", "", report.outcomes.get(outcome, 0), share, ""])
    writer.writerow(["summary", "votes up", "", "", report.up, "", ""])
    writer.writerow(["summary", "votes down", "", "", report.down, "", ""])
    for group in report.unanswered:
        writer.writerow(["unanswered", group.question, "", "", group.asked, "", group.chats])
    for passage in report.downvoted:
        writer.writerow(["voted down", "", passage.source, passage.paragraph, passage.down, "", ""])


def liked_questions(feedback: Feedback, days: int) -> dict[str, Any]:
    """Questions whose shown passage got more 👍 than 👎, as a question set like ``qa_dev_v2.json``.

    Each question once (by normalised text), with the first passage of the page readers liked:
    its paragraph number, its answering sentence as the gold substring, and its source. Meant for
    an editor to review into test questions, not to be used unread.
    """
    since = feedback.now() - days * DAY
    rows = feedback.rows(
        "SELECT q.question, q.lang, s.source, s.paragraph, s.sentence FROM questions q "
        "JOIN (SELECT chat, message, page, sum(vote) AS score FROM votes GROUP BY chat, message, page) v "
        "ON v.chat = q.chat AND v.message = q.message "
        "JOIN shown s ON s.chat = v.chat AND s.message = v.message AND s.page = v.page AND s.rank = v.page "
        "WHERE q.at >= ? AND v.score > 0 ORDER BY q.at",
        since,
    )
    answerable, seen = [], set()
    for question, lang, source, paragraph, sentence in rows:
        if normalise(question) in seen:
            continue
        seen.add(normalise(question))
        item: dict[str, Any] = {"q": plain(question), "lang": lang, "paragraph": [paragraph], "gold": [plain(sentence)]}
        answerable.append({**item, "style": "reader", "source": source})
    return {
        "about": (
            f"Questions readers asked in the {days} days before {_day(feedback.now())} whose shown passage got "
            "more thumbs up than down (python -m bot stats --export-eval). paragraph and gold are the first "
            "passage of the page they liked; lang is the reader's Telegram language. Review before use."
        ),
        "answerable": answerable,
        "off_topic": [],
        "near_topic": [],
    }


def run(
    settings: Settings,
    days: int,
    *,
    csv_file: str | None = None,
    export_file: str | None = None,
    lang: Language = "en",
) -> int:
    """``python -m bot stats``: the report on stdout in ``lang``, or as CSV (English column names and
    outcomes, for programs), and/or the liked questions as a question set."""
    from index.encoders import open_encoder

    path = settings.feedback_path
    if not path.is_file():
        print(
            f"error: no feedback database at {path} yet: the bot records questions asked on Telegram only, "
            "not those asked with ask or chat (FEEDBACK_DB sets where it keeps them)",
            file=sys.stderr,
        )
        return 1
    feedback = Feedback(path, days=settings.feedback_days)
    try:
        if export_file is not None:
            exported = liked_questions(feedback, days)
            _write(export_file, json.dumps(exported, ensure_ascii=False, indent=1) + "\n")
            count = len(exported["answerable"])
            print(f"wrote {count} question{'' if count == 1 else 's'} to {export_file}", file=sys.stderr)
            if csv_file is None:
                return 0
        encoder = open_encoder(settings.embedding_model, query_prompt=settings.query_prompt)
        report = build(feedback, days, embed=encoder.queries)
    except FeedbackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if csv_file is None:
        print("\n".join(lines(report, lang)))
        return 0
    out = io.StringIO()
    write_csv(report, out)
    _write(csv_file, out.getvalue())
    return 0


def _write(name: str, content: str) -> None:
    """``content`` to the file ``name``, or to stdout for ``-``; OSError when it cannot be written."""
    if name == "-":
        sys.stdout.write(content)
    else:
        Path(name).write_text(content, "utf-8", newline="")
