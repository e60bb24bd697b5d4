"""The editor's report as CSV that a spreadsheet opens as text: readers' questions are data, never formulas."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import IO

from bot.core.feedback import plain
from bot.core.stats.report import Report
from index import OUTCOMES

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
